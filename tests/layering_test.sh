#!/usr/bin/env bash
# The engine knows nothing of care; a model knows nothing of threads or files.
set -u
root="$1"
status=0
if grep -rnE '#include +"models/' "$root/engine"; then
  echo "layering: engine/ includes a model header (above)"; status=1
fi
if grep -rnE '#include +[<"](tbb/|oneapi/|hdf5|H5|fstream|thread|mutex|atomic|filesystem)' "$root/models"; then
  echo "layering: models/ uses threads or files (above)"; status=1
fi
if grep -rnE '#include +"engine/(runner|result_writer|hdf5_file|progress)' "$root/models"; then
  echo "layering: models/ includes the engine's runner or writer (above)"; status=1
fi
[ $status -eq 0 ] && echo "layering: ok"
exit $status
