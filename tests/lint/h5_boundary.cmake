# lint.h5_boundary (docs/architecture.md, "The HDF5 boundary"): only src/h5
# calls HDF5's C API or includes its headers. Fails on any H5Xxx( call, H5
# constant or hdf5 header in src/ and include/ outside src/h5.
#
#   cmake -DSOURCE_DIR=<repo> -P tests/lint/h5_boundary.cmake
cmake_policy(SET CMP0007 NEW)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "h5_boundary: pass -DSOURCE_DIR=<the repository>")
endif()
file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}"
  "${SOURCE_DIR}/src/*.cpp" "${SOURCE_DIR}/src/*.hpp" "${SOURCE_DIR}/src/*.h"
  "${SOURCE_DIR}/src/*.cc" "${SOURCE_DIR}/src/*.in"
  "${SOURCE_DIR}/include/*.hpp" "${SOURCE_DIR}/include/*.h" "${SOURCE_DIR}/include/*.in")
# An HDF5 call (H5Fopen(, H5Dread (, H5free_memory(), one of its constants or
# types (H5P_DEFAULT, H5T_NATIVE_FLOAT, H5F_ACC_RDWR, hid_t, hsize_t, herr_t,
# htri_t, hssize_t) or one of its headers (hdf5.h, H5Ppublic.h, hdf5_hl.h).
set(call "(^|[^A-Za-z0-9_])H5[A-Za-z_0-9]*[ \t]*\\(")
set(constant "(^|[^A-Za-z0-9_])H5[A-Z]_[A-Z0-9_]+")
set(type "(^|[^A-Za-z0-9_])(hid_t|hsize_t|herr_t|htri_t|hssize_t|haddr_t)([^A-Za-z0-9_]|$)")
set(header "#[ \t]*include[ \t]*[<\"](hdf5[A-Za-z0-9_]*|H5[A-Za-z0-9_]*)\\.h[>\"]")
set(bad "")
foreach(f IN LISTS files)
  if(f MATCHES "^src/h5/")
    continue()
  endif()
  # One list element a line (semicolons and brackets would split or join them).
  file(READ "${SOURCE_DIR}/${f}" text)
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(REPLACE "[" "<lb>" text "${text}")
  string(REPLACE "]" "<rb>" text "${text}")
  string(REPLACE "\\" "<bs>" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    # Comments may name HDF5's functions (// ... H5Fopen ...).
    string(REGEX REPLACE "//.*$" "" code "${line}")
    if(code MATCHES "${call}" OR code MATCHES "${constant}" OR code MATCHES "${type}"
       OR line MATCHES "${header}")
      string(STRIP "${line}" shown)
      string(REPLACE "<lb>" "(" shown "${shown}")
      string(REPLACE "<rb>" ")" shown "${shown}")
      string(REPLACE "<bs>" "/" shown "${shown}")
      string(REPLACE "<semicolon>" "," shown "${shown}")
      list(APPEND bad "${f}:${n}: ${shown}")
    endif()
  endforeach()
endforeach()
if(bad)
  list(LENGTH bad count)
  string(REPLACE ";" "\n  " shown "${bad}")
  message(FATAL_ERROR "h5_boundary: ${count} uses of HDF5 outside src/h5 (go through src/h5/h5.hpp, "
    "docs/architecture.md):\n  ${shown}")
endif()
list(LENGTH files checked)
message(STATUS "h5_boundary: ${checked} files, HDF5 only in src/h5")
