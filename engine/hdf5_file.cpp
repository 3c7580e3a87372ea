#include "engine/hdf5_file.h"

#include <H5DSpublic.h>
#include <zlib.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <optional>

namespace carecast::engine::h5 {
namespace {

// gzip level of compressed datasets. After the shuffle filter level 1 compresses saved float32
// trajectories about as well as level 4 in less time (default forecast, 500 trajectories saved,
// 10^4 run: 18.36 MB against 18.19 MB, the whole run 1.59-1.62 s against 1.68-1.69 s).
constexpr unsigned kDeflateLevel = 1;

// The top (outermost) and innermost messages of HDF5's error stack.
struct StackMessages {
  std::string top;
  std::string innermost;
};

// H5Ewalk2 callback, walking downward from the failed API call to the innermost cause.
herr_t collect_message(unsigned n, const H5E_error2_t* error, void* data) noexcept {
  auto& messages = *static_cast<StackMessages*>(data);
  try {
    const char* text = error->desc != nullptr ? error->desc : "";
    if (n == 0) messages.top = text;
    messages.innermost = text;
    return 0;
  } catch (...) {  // an exception must not cross the C library
    return -1;
  }
}

// What HDF5's error stack says about the last failure (read before any other HDF5 call, which
// would clear the stack). H5Ewalk2 cannot go through check: a failure there would recurse.
std::string stack_message() {
  StackMessages messages;
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_message, &messages) < 0) {
    return "HDF5 error stack unreadable";
  }
  if (messages.top.empty()) return "no message on HDF5's error stack";
  if (messages.innermost == messages.top) return messages.top;
  return fmt::format("{} ({})", messages.top, messages.innermost);
}

// Stops HDF5 printing its error stack to stderr: failures become h5::Error instead. Set per
// call because a thread-safe HDF5 build keeps this setting per thread.
void silence_error_printing() {
  detail::check(H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), "switch off error printing of",
                "the HDF5 library");
}

// The non-empty components of a path "a/b/c".
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> components;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view component = path.substr(0, slash);
    if (!component.empty()) components.emplace_back(component);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return components;
}

std::size_t element_count_of(const std::vector<hsize_t>& dims) {
  return std::accumulate(dims.begin(), dims.end(), std::size_t{1}, std::multiplies<>{});
}

// Strings HDF5 allocated for a variable-length read, freed on destruction (unchecked, as a
// destructor cannot throw).
struct LibraryStrings {
  explicit LibraryStrings(std::size_t count) : pointers(count, nullptr) {}
  LibraryStrings(const LibraryStrings&) = delete;
  LibraryStrings& operator=(const LibraryStrings&) = delete;
  ~LibraryStrings() {
    for (char* pointer : pointers) {
      if (pointer != nullptr) static_cast<void>(H5free_memory(pointer));
    }
  }
  std::vector<char*> pointers;
};

}  // namespace

namespace detail {

void throw_error(std::string_view action, std::string_view subject) {
  throw Error(fmt::format("HDF5: cannot {} {}: {}", action, subject, stack_message()));
}

}  // namespace detail

using detail::check;

// ---- Dataspace ------------------------------------------------------------------------------

Dataspace Dataspace::scalar() {
  return {check(H5Screate(H5S_SCALAR), "create", "a scalar dataspace"), "scalar dataspace"};
}

Dataspace Dataspace::simple(const std::vector<hsize_t>& dims) {
  std::string description = fmt::format("dataspace [{}]", fmt::join(dims, ", "));
  const hid_t id = check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                         "create", description);
  return {id, std::move(description)};
}

std::vector<hsize_t> Dataspace::dims() const {
  const int rank = check(H5Sget_simple_extent_ndims(id()), "query the rank of", description());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(id(), dims.data(), nullptr), "query the extent of",
        description());
  return dims;
}

// ---- Datatype -------------------------------------------------------------------------------

Datatype Datatype::utf8_string() {
  Datatype type(check(H5Tcopy(H5T_C_S1), "create", "a string type"), "UTF-8 string type");
  check(H5Tset_size(type.id(), H5T_VARIABLE), "set the size of", type.description());
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "set the character set of", type.description());
  return type;
}

// ---- PropertyList ---------------------------------------------------------------------------

PropertyList PropertyList::file_creation() {
  PropertyList list(check(H5Pcreate(H5P_FILE_CREATE), "create", "a file creation property list"),
                    "file creation property list");
  check(H5Pset_link_creation_order(list.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "set the link creation order of", list.description());
  return list;
}

PropertyList PropertyList::file_access() {
  PropertyList list(check(H5Pcreate(H5P_FILE_ACCESS), "create", "a file access property list"),
                    "file access property list");
  check(H5Pset_fclose_degree(list.id(), H5F_CLOSE_SEMI), "set the close degree of",
        list.description());
  return list;
}

PropertyList PropertyList::group_creation() {
  PropertyList list(check(H5Pcreate(H5P_GROUP_CREATE), "create", "a group creation property list"),
                    "group creation property list");
  check(H5Pset_link_creation_order(list.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "set the link creation order of", list.description());
  return list;
}

PropertyList PropertyList::dataset_creation(const std::vector<hsize_t>& chunk) {
  PropertyList list(
      check(H5Pcreate(H5P_DATASET_CREATE), "create", "a dataset creation property list"),
      "dataset creation property list");
  if (!chunk.empty()) {
    check(H5Pset_chunk(list.id(), static_cast<int>(chunk.size()), chunk.data()),
          fmt::format("set chunks [{}] in", fmt::join(chunk, ", ")), list.description());
    check(H5Pset_shuffle(list.id()), "set the shuffle filter in", list.description());
    check(H5Pset_deflate(list.id(), kDeflateLevel), "set the deflate filter in",
          list.description());
  }
  return list;
}

// ---- Attribute ------------------------------------------------------------------------------

void Attribute::write(hid_t memory_type, const void* value) {
  check(H5Awrite(id(), memory_type, value), "write", description());
}

void Attribute::read(hid_t memory_type, void* value) const {
  check(H5Aread(id(), memory_type, value), "read", description());
}

std::string Attribute::read_string() const {
  const Datatype stored(check(H5Aget_type(id()), "query the type of", description()),
                        "type of " + description());
  if (check(static_cast<int>(H5Tget_class(stored.id())), "query the type of", description()) !=
      H5T_STRING) {
    throw Error(fmt::format("HDF5: cannot read {} as a string: it is not one", description()));
  }
  if (check(H5Tis_variable_str(stored.id()), "query the type of", description()) > 0) {
    const Datatype type = Datatype::utf8_string();
    LibraryStrings text(1);
    read(type.id(), text.pointers.data());
    return text.pointers[0] != nullptr ? std::string(text.pointers[0]) : std::string();
  }
  std::string text(check(H5Tget_size(stored.id()), "query the size of", stored.description()),
                   '\0');
  read(stored.id(), text.data());
  text.erase(std::find(text.begin(), text.end(), '\0'), text.end());
  return text;
}

// ---- Object ---------------------------------------------------------------------------------

Object::Object(hid_t id, std::string_view kind, std::string file_name, std::string path)
    : Handle(id, fmt::format("{} '{}' in {}", kind, path, file_name)),
      file_name_(std::move(file_name)),
      path_(std::move(path)) {}

std::string Object::child_path(std::string_view relative) const {
  return path_ == "/" ? std::string(relative) : fmt::format("{}/{}", path_, relative);
}

std::string Object::describe(std::string_view kind, std::string_view path) const {
  return fmt::format("{} '{}' in {}", kind, path, file_name_);
}

std::string Object::describe_attribute(std::string_view name) const {
  return fmt::format("attribute '{}' of '{}' in {}", name, path_, file_name_);
}

bool Object::has_attribute(std::string_view name) const {
  return check(H5Aexists(id(), std::string(name).c_str()), "look up", describe_attribute(name)) > 0;
}

Attribute Object::create_attribute(std::string_view name, hid_t file_type) {
  const std::string key(name);
  std::string description = describe_attribute(name);
  if (has_attribute(name)) check(H5Adelete(id(), key.c_str()), "replace", description);
  const Dataspace space = Dataspace::scalar();
  const hid_t attribute =
      check(H5Acreate2(id(), key.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
            "create", description);
  return {attribute, std::move(description)};
}

Attribute Object::open_attribute(std::string_view name) const {
  std::string description = describe_attribute(name);
  const hid_t attribute =
      check(H5Aopen(id(), std::string(name).c_str(), H5P_DEFAULT), "open", description);
  return {attribute, std::move(description)};
}

void Object::set_attribute(std::string_view name, std::string_view value) {
  const Datatype type = Datatype::utf8_string();
  const std::string text(value);
  const char* pointer = text.c_str();
  create_attribute(name, type.id()).write(type.id(), &pointer);
}

std::string Object::string_attribute(std::string_view name) const {
  return open_attribute(name).read_string();
}

// ---- Group ----------------------------------------------------------------------------------

Group::Group(hid_t id, std::string file_name, std::string path)
    : Object(id, "group", std::move(file_name), std::move(path)) {}

Group Group::create_group(std::string_view name) {
  const PropertyList creation = PropertyList::group_creation();
  std::string path = child_path(name);
  const hid_t group =
      check(H5Gcreate2(id(), std::string(name).c_str(), H5P_DEFAULT, creation.id(), H5P_DEFAULT),
            "create", describe("group", path));
  return {group, file_name(), std::move(path)};
}

Group Group::require_group(std::string_view path) {
  std::optional<Group> current;  // the group reached so far; none: this one
  for (const std::string& name : split_path(path)) {
    Group& parent = current ? *current : *this;
    Group child = parent.contains(name) ? parent.open_group(name) : parent.create_group(name);
    current = std::move(child);
  }
  if (!current)
    throw Error(fmt::format("HDF5: cannot create a group at the empty path in {}", description()));
  return std::move(*current);
}

Group Group::open_group(std::string_view path) const {
  std::string full_path = child_path(path);
  const hid_t group = check(H5Gopen2(id(), std::string(path).c_str(), H5P_DEFAULT), "open",
                            describe("group", full_path));
  return {group, file_name(), std::move(full_path)};
}

Dataset Group::open_dataset(std::string_view path) const {
  std::string full_path = child_path(path);
  const hid_t dataset = check(H5Dopen2(id(), std::string(path).c_str(), H5P_DEFAULT), "open",
                              describe("dataset", full_path));
  return {dataset, file_name(), std::move(full_path)};
}

void Group::remove(std::string_view name) {
  const std::string link(name);
  check(H5Ldelete(id(), link.c_str(), H5P_DEFAULT), "remove", describe("link", child_path(link)));
}

bool Group::contains(std::string_view path) const {
  // H5Lexists fails (rather than answering false) when an intermediate group is missing, so
  // each prefix is looked up in turn.
  std::string prefix;
  for (const std::string& name : split_path(path)) {
    prefix += prefix.empty() ? name : "/" + name;
    if (check(H5Lexists(id(), prefix.c_str(), H5P_DEFAULT), "look up",
              describe("link", child_path(prefix))) == 0) {
      return false;
    }
  }
  return !prefix.empty();
}

std::vector<std::string> Group::children() const {
  H5G_info_t info;
  check(H5Gget_info(id(), &info), "query", description());
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(info.nlinks));
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length = check(
        H5Lget_name_by_idx(id(), ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT),
        "list the members of", description());
    std::string name(static_cast<std::size_t>(length) + 1, '\0');  // + the terminating null
    check(H5Lget_name_by_idx(id(), ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, name.data(),
                             name.size(), H5P_DEFAULT),
          "list the members of", description());
    name.resize(static_cast<std::size_t>(length));
    names.push_back(std::move(name));
  }
  return names;
}

Dataset Group::write_dataset(std::string_view name, const std::vector<hsize_t>& dims,
                             std::span<const double> data, const std::vector<hsize_t>& chunk) {
  return write_numbers(name, dims, detail::native_type<double>(), data.data(), data.size(), chunk);
}

Dataset Group::write_dataset(std::string_view name, const std::vector<hsize_t>& dims,
                             std::span<const float> data, const std::vector<hsize_t>& chunk) {
  return write_numbers(name, dims, detail::native_type<float>(), data.data(), data.size(), chunk);
}

Dataset Group::write_dataset(std::string_view name, const std::vector<hsize_t>& dims,
                             std::span<const std::int64_t> data,
                             const std::vector<hsize_t>& chunk) {
  return write_numbers(name, dims, detail::native_type<std::int64_t>(), data.data(), data.size(),
                       chunk);
}

Dataset Group::write_numbers(std::string_view name, const std::vector<hsize_t>& dims, hid_t type,
                             const void* data, std::size_t count,
                             const std::vector<hsize_t>& chunk) {
  std::string path = child_path(name);
  if (count != element_count_of(dims)) {
    throw Error(fmt::format("HDF5: cannot write {}: {} values for shape [{}]",
                            describe("dataset", path), count, fmt::join(dims, ", ")));
  }
  const Dataspace space = Dataspace::simple(dims);
  const PropertyList creation = PropertyList::dataset_creation(chunk);
  const hid_t dataset_id = check(H5Dcreate2(id(), std::string(name).c_str(), type, space.id(),
                                            H5P_DEFAULT, creation.id(), H5P_DEFAULT),
                                 "create", describe("dataset", path));
  Dataset dataset(dataset_id, file_name(), std::move(path));
  if (count > 0) {
    check(H5Dwrite(dataset.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write",
          dataset.description());
  }
  return dataset;
}

FilteredChunks::FilteredChunks(std::span<const float> data, const std::vector<hsize_t>& dims,
                               hsize_t chunk_rows)
    : dims_(dims) {
  if (dims.empty() || chunk_rows == 0 || data.size() != element_count_of(dims)) {
    throw Error(fmt::format("HDF5: {} values cannot be cut into chunks of {} rows of shape [{}]",
                            data.size(), chunk_rows, fmt::join(dims, ", ")));
  }
  chunk_ = dims;
  chunk_[0] = chunk_rows;
  const std::size_t row = data.empty() ? 0 : element_count_of(dims) / dims[0];  // values per row
  const std::size_t per_chunk = static_cast<std::size_t>(chunk_rows) * row;
  constexpr std::size_t kSize = sizeof(float);
  std::vector<unsigned char> shuffled(per_chunk * kSize);
  for (std::size_t first = 0; first < data.size(); first += per_chunk) {
    // HDF5's shuffle filter: byte b of value i to position b * count + i. Values past the end of
    // the data are the fill value's bytes (0).
    const std::size_t count = std::min(per_chunk, data.size() - first);
    std::fill(shuffled.begin(), shuffled.end(), 0);
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data() + first);
    for (std::size_t i = 0; i < count; ++i) {
      for (std::size_t b = 0; b < kSize; ++b) shuffled[b * per_chunk + i] = bytes[i * kSize + b];
    }
    // HDF5's deflate filter: zlib's compress2 at the dataset's level.
    uLongf length = compressBound(static_cast<uLong>(shuffled.size()));
    std::vector<unsigned char>& out = chunks_.emplace_back(length);
    if (compress2(out.data(), &length, shuffled.data(), static_cast<uLong>(shuffled.size()),
                  static_cast<int>(kDeflateLevel)) != Z_OK) {
      throw Error("HDF5: zlib could not compress a chunk");
    }
    out.resize(length);
  }
}

Dataset Group::write_dataset(std::string_view name, const FilteredChunks& chunks) {
  std::string path = child_path(name);
  const Dataspace space = Dataspace::simple(chunks.dims());
  const PropertyList creation = PropertyList::dataset_creation(chunks.chunk());
  const hid_t type = detail::native_type<float>();
  const hid_t dataset_id = check(H5Dcreate2(id(), std::string(name).c_str(), type, space.id(),
                                            H5P_DEFAULT, creation.id(), H5P_DEFAULT),
                                 "create", describe("dataset", path));
  Dataset dataset(dataset_id, file_name(), std::move(path));
  std::vector<hsize_t> offset(chunks.dims().size(), 0);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    offset[0] = static_cast<hsize_t>(i) * chunks.chunk()[0];
    const auto bytes = chunks.filtered(i);
    // Filter mask 0: every filter of the dataset was applied.
    check(H5Dwrite_chunk(dataset.id(), H5P_DEFAULT, 0, offset.data(), bytes.size(), bytes.data()),
          fmt::format("write chunk {} of", i), dataset.description());
  }
  return dataset;
}

Dataset Group::write_strings(std::string_view name, std::span<const std::string> values) {
  std::string path = child_path(name);
  const Datatype type = Datatype::utf8_string();
  const Dataspace space = Dataspace::simple({values.size()});
  const hid_t dataset_id = check(H5Dcreate2(id(), std::string(name).c_str(), type.id(), space.id(),
                                            H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                 "create", describe("dataset", path));
  Dataset dataset(dataset_id, file_name(), std::move(path));
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const std::string& value : values) pointers.push_back(value.c_str());
  if (!pointers.empty()) {
    check(H5Dwrite(dataset.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
          "write", dataset.description());
  }
  return dataset;
}

// ---- Dataset --------------------------------------------------------------------------------

Dataset::Dataset(hid_t id, std::string file_name, std::string path)
    : Object(id, "dataset", std::move(file_name), std::move(path)) {}

Dataspace Dataset::space() const {
  return {check(H5Dget_space(id()), "query the dataspace of", description()),
          "dataspace of " + description()};
}

std::vector<hsize_t> Dataset::dims() const { return space().dims(); }

std::size_t Dataset::element_count() const { return element_count_of(dims()); }

void Dataset::read_into(hid_t memory_type, void* buffer, std::size_t count) const {
  if (count == 0) return;
  check(H5Dread(id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer), "read", description());
}

std::vector<std::string> Dataset::read_strings() const {
  const Datatype type = Datatype::utf8_string();
  LibraryStrings text(element_count());
  read_into(type.id(), text.pointers.data(), text.pointers.size());
  std::vector<std::string> values;
  values.reserve(text.pointers.size());
  for (const char* pointer : text.pointers) {
    values.emplace_back(pointer != nullptr ? pointer : "");
  }
  return values;
}

void Dataset::make_scale(std::string_view dimension) {
  check(H5DSset_scale(id(), std::string(dimension).c_str()),
        fmt::format("make dimension scale '{}' of", dimension), description());
}

void Dataset::attach_scale(const Dataset& scale, unsigned axis) {
  check(H5DSattach_scale(id(), scale.id(), axis),
        fmt::format("attach dimension scale '{}' to axis {} of", scale.path(), axis),
        description());
}

// ---- File -----------------------------------------------------------------------------------

File::File(hid_t id, std::string name)
    : Handle(id, fmt::format("file '{}'", name)), name_(std::move(name)) {}

File File::create(const std::filesystem::path& path) {
  silence_error_printing();
  const PropertyList creation = PropertyList::file_creation();
  const PropertyList access = PropertyList::file_access();
  std::string name = path.string();
  const hid_t id = check(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, creation.id(), access.id()),
                         "create", fmt::format("file '{}'", name));
  return {id, std::move(name)};
}

File File::open(const std::filesystem::path& path, unsigned flags, std::string_view action) {
  silence_error_printing();
  const PropertyList access = PropertyList::file_access();
  std::string name = path.string();
  const hid_t id =
      check(H5Fopen(name.c_str(), flags, access.id()), action, fmt::format("file '{}'", name));
  return {id, std::move(name)};
}

File File::open_read_only(const std::filesystem::path& path) {
  return open(path, H5F_ACC_RDONLY, "open");
}

File File::open_read_write(const std::filesystem::path& path) {
  return open(path, H5F_ACC_RDWR, "open for writing");
}

Group File::root() const {
  return {check(H5Gopen2(id(), "/", H5P_DEFAULT), "open the root group of", description()), name_,
          "/"};
}

}  // namespace carecast::engine::h5
