// A small RAII layer over the HDF5 C API: one move-only type per HDF5 concept (file, group,
// dataset, dataspace, datatype, attribute, property list), each closing its identifier in its
// destructor, plus the helpers carecast's result files need (nested groups, numeric and UTF-8
// string datasets, chunked + compressed datasets, attributes, dimension scales, reading back).
//
// Errors. Every HDF5 C call goes through detail::check, which turns a negative return value into
// an h5::Error naming the operation, the object and the file, followed by the top message of
// HDF5's error stack (and its innermost message, when that differs), e.g.
//   HDF5: cannot create dataset 'scenarios/baseline/summary/headcount_mean' in out.h5: unable to
//   create dataset (name already exists)
// HDF5's own printing of its error stack is switched off whenever a file is created or opened.
//
// Closing. A destructor cannot report a failure, so the closes done by destructors are
// unchecked. Where a close matters, call close(), which throws. Files are opened with the "semi"
// close degree: closing a file fails while any of its groups, datasets or attributes is still
// open, so a successful File::close() means the file really is written and closed. Hence objects
// must not outlive the File they come from.
//
// The serial HDF5 library is not thread-safe: use these types from one thread at a time.
#pragma once

#include <hdf5.h>

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carecast::engine::h5 {

// Any failure of this layer, or of the HDF5 library underneath it.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The numeric types attributes and datasets are read and written as.
template <class T>
concept Number = std::same_as<T, double> || std::same_as<T, float> ||
    std::same_as<T, std::int64_t> || std::same_as<T, std::uint64_t>;

namespace detail {

// Throws h5::Error "HDF5: cannot <action> <subject>: <HDF5 error stack message>".
[[noreturn]] void throw_error(std::string_view action, std::string_view subject);

// The one check every HDF5 C call goes through. HDF5 reports failure by a negative value, or by
// 0 from the few calls that return an unsigned size (e.g. H5Tget_size).
template <std::integral Status>
Status check(Status status, std::string_view action, std::string_view subject) {
  if constexpr (std::signed_integral<Status>) {
    if (status < 0) throw_error(action, subject);
  } else {
    if (status == 0) throw_error(action, subject);
  }
  return status;
}

// The HDF5 memory type of T (predefined by the library: never closed).
template <Number T>
hid_t native_type() {
  if constexpr (std::same_as<T, double>) {
    return H5T_NATIVE_DOUBLE;
  } else if constexpr (std::same_as<T, float>) {
    return H5T_NATIVE_FLOAT;
  } else if constexpr (std::same_as<T, std::int64_t>) {
    return H5T_NATIVE_INT64;
  } else {
    return H5T_NATIVE_UINT64;
  }
}

// Owns one HDF5 identifier, released with Release; move-only. `description` names the object
// in error messages (e.g. "dataset 'a/b' in out.h5").
template <herr_t (*Release)(hid_t)>
class Handle {
 public:
  Handle(hid_t id, std::string description) : id_(id), description_(std::move(description)) {}
  Handle(Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)),
        description_(std::move(other.description_)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      release();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      description_ = std::move(other.description_);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { release(); }

  hid_t id() const { return id_; }
  const std::string& description() const { return description_; }

  // Closes now and throws on failure (the handle then still owns the identifier).
  void close() {
    check(Release(id_), "close", description_);
    id_ = H5I_INVALID_HID;
  }

 private:
  // Unchecked: called from the destructor, which cannot throw.
  void release() noexcept {
    if (id_ >= 0) static_cast<void>(Release(id_));
    id_ = H5I_INVALID_HID;
  }

  hid_t id_ = H5I_INVALID_HID;
  std::string description_;
};

}  // namespace detail

// The shape of a dataset or attribute.
class Dataspace : public detail::Handle<H5Sclose> {
 public:
  using Handle::Handle;
  static Dataspace scalar();
  static Dataspace simple(const std::vector<hsize_t>& dims);
  std::vector<hsize_t> dims() const;
};

// A datatype created at run time (the predefined numeric types need no handle).
class Datatype : public detail::Handle<H5Tclose> {
 public:
  using Handle::Handle;
  // Variable-length, null-terminated UTF-8 string: what h5py and netCDF-4 use for text.
  static Datatype utf8_string();
};

// Creation and access settings for files, groups and datasets.
class PropertyList : public detail::Handle<H5Pclose> {
 public:
  using Handle::Handle;
  // Root group tracks (and indexes) the creation order of its links.
  static PropertyList file_creation();
  // "Semi" close degree: closing the file fails while objects in it are open.
  static PropertyList file_access();
  // The group tracks (and indexes) the creation order of its links.
  static PropertyList group_creation();
  // Contiguous when `chunk` is empty; otherwise chunks of that shape, shuffled and gzip level 1.
  static PropertyList dataset_creation(const std::vector<hsize_t>& chunk);
};

// An attribute of a group or dataset: a scalar number or a string.
class Attribute : public detail::Handle<H5Aclose> {
 public:
  using Handle::Handle;
  void write(hid_t memory_type, const void* value);
  void read(hid_t memory_type, void* value) const;
  // Reads a variable-length string (as written here) or a fixed-length one (as HDF5's own
  // attributes such as CLASS, and netCDF-C, write them), up to its first null.
  std::string read_string() const;
};

// What groups and datasets share: a path in a file, and attributes.
class Object : public detail::Handle<H5Oclose> {
 public:
  const std::string& file_name() const { return file_name_; }
  const std::string& path() const { return path_; }  // "/" for the root, else "a/b" (no leading /)

  bool has_attribute(std::string_view name) const;
  // Setting an attribute replaces any attribute of that name.
  void set_attribute(std::string_view name, std::string_view value);
  template <Number T>
  void set_attribute(std::string_view name, T value) {
    create_attribute(name, detail::native_type<T>()).write(detail::native_type<T>(), &value);
  }

  std::string string_attribute(std::string_view name) const;
  // Converted from the stored numeric type by HDF5.
  template <Number T>
  T attribute(std::string_view name) const {
    T value{};
    open_attribute(name).read(detail::native_type<T>(), &value);
    return value;
  }

 protected:
  Object(hid_t id, std::string_view kind, std::string file_name, std::string path);
  // The path of a child at `relative` (itself relative to this object).
  std::string child_path(std::string_view relative) const;
  // E.g. describe("dataset", "x/y") == "dataset 'x/y' in out.h5" (a path relative to the file).
  std::string describe(std::string_view kind, std::string_view path) const;

 private:
  Attribute create_attribute(std::string_view name, hid_t file_type);
  Attribute open_attribute(std::string_view name) const;
  std::string describe_attribute(std::string_view name) const;

  std::string file_name_;
  std::string path_;
};

class Dataset;

// A float32 array cut into the chunks a chunked dataset here stores (PropertyList::
// dataset_creation: shuffled, then gzip), each chunk filtered as HDF5's own filters would
// filter it, away from HDF5: HDF5 may run on one thread at a time, and compressing is most of
// what writing a chunked dataset costs, so a caller can make the chunks of many datasets at once
// on several threads, then write them (Group::write_dataset) on one. A chunk spans every
// dimension but the first whole: chunk i holds rows [i * chunk_rows, (i + 1) * chunk_rows), the
// last one padded with zeros to a whole chunk, as HDF5 pads it with the default fill value.
class FilteredChunks {
 public:
  FilteredChunks(std::span<const float> data, const std::vector<hsize_t>& dims, hsize_t chunk_rows);

  const std::vector<hsize_t>& dims() const { return dims_; }
  const std::vector<hsize_t>& chunk() const { return chunk_; }
  std::size_t size() const { return chunks_.size(); }
  // Chunk i as stored: the shuffled, compressed bytes.
  std::span<const unsigned char> filtered(std::size_t i) const { return chunks_[i]; }

 private:
  std::vector<hsize_t> dims_, chunk_;
  std::vector<std::vector<unsigned char>> chunks_;
};

// A group; paths given to its members are relative to it ("a/b").
class Group : public Object {
 public:
  // Opens the group at `path`, creating every missing group along it.
  Group require_group(std::string_view path);
  Group open_group(std::string_view path) const;
  Dataset open_dataset(std::string_view path) const;
  // Whether something (group, dataset) exists at `path`.
  bool contains(std::string_view path) const;
  // Unlinks a direct child (its space is not reclaimed until the file is repacked).
  void remove(std::string_view name);
  // The names of the direct members, in creation order (groups made by this layer track it).
  std::vector<std::string> children() const;

  // Creates dataset `name` of shape `dims` holding `data` (row-major, as many values as dims
  // imply). `chunk`: see PropertyList::dataset_creation.
  Dataset write_dataset(std::string_view name, const std::vector<hsize_t>& dims,
                        std::span<const double> data, const std::vector<hsize_t>& chunk = {});
  Dataset write_dataset(std::string_view name, const std::vector<hsize_t>& dims,
                        std::span<const float> data, const std::vector<hsize_t>& chunk = {});
  Dataset write_dataset(std::string_view name, const std::vector<hsize_t>& dims,
                        std::span<const std::int64_t> data, const std::vector<hsize_t>& chunk = {});
  // Creates a float32 dataset of chunks.dims(), chunked and filtered as PropertyList::
  // dataset_creation(chunks.chunk()) makes it, and stores the chunks as they come.
  Dataset write_dataset(std::string_view name, const FilteredChunks& chunks);
  // Creates a 1-D dataset of variable-length UTF-8 strings.
  Dataset write_strings(std::string_view name, std::span<const std::string> values);

 private:
  friend class File;
  Group(hid_t id, std::string file_name, std::string path);
  // Creates the direct member group `name`, tracking the creation order of its links.
  Group create_group(std::string_view name);
  Dataset write_numbers(std::string_view name, const std::vector<hsize_t>& dims, hid_t type,
                        const void* data, std::size_t count, const std::vector<hsize_t>& chunk);
};

// A dataset: numbers or strings, optionally a dimension scale.
class Dataset : public Object {
 public:
  std::vector<hsize_t> dims() const;
  // All values, row-major, converted from the stored numeric type by HDF5.
  template <Number T>
  std::vector<T> read() const {
    std::vector<T> values(element_count());
    read_into(detail::native_type<T>(), values.data(), values.size());
    return values;
  }
  std::vector<std::string> read_strings() const;

  // Makes this dataset a dimension scale called `dimension` (H5DSset_scale).
  void make_scale(std::string_view dimension);
  // Attaches `scale` to axis `axis` of this dataset (H5DSattach_scale).
  void attach_scale(const Dataset& scale, unsigned axis);

 private:
  friend class Group;
  Dataset(hid_t id, std::string file_name, std::string path);
  Dataspace space() const;
  std::size_t element_count() const;
  void read_into(hid_t memory_type, void* buffer, std::size_t count) const;
};

// An HDF5 file.
class File : public detail::Handle<H5Fclose> {
 public:
  // Creates (truncating) the file at `path`.
  static File create(const std::filesystem::path& path);
  static File open_read_only(const std::filesystem::path& path);
  static File open_read_write(const std::filesystem::path& path);

  const std::string& name() const { return name_; }
  Group root() const;

 private:
  File(hid_t id, std::string name);
  static File open(const std::filesystem::path& path, unsigned flags, std::string_view action);
  std::string name_;
};

}  // namespace carecast::engine::h5
