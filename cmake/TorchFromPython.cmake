# find_package(Torch) for the LibTorch inside a PyTorch installation
# (-DPRH_TORCH_FROM_PYTHON=ON; PRH_PYTHON names the interpreter, default python3).
#
# 1. Asks that Python for torch.utils.cmake_prefix_path (where PyTorch keeps
#    TorchConfig.cmake), its C++ ABI (torch._C._GLIBCXX_USE_CXX11_ABI),
#    torch.__version__ and torch.version.cuda.
# 2. Fails clearly when PyTorch's C++ ABI differs from this compiler's: prh
#    links the system's spdlog, fmt and yaml-cpp, built with the new ABI
#    (_GLIBCXX_USE_CXX11_ABI=1), and std::string crosses those interfaces.
# 3. A CUDA build of PyTorch: its TorchConfig (Caffe2's public/cuda.cmake)
#    enables the CUDA language and finds the CUDA toolkit, so nvcc must be
#    found; it is looked for on PATH, then in CUDA_HOME/CUDA_PATH and
#    /usr/local/cuda*/bin, and handed over as CMAKE_CUDA_COMPILER (set it
#    yourself to choose another). Its version should match torch.version.cuda.
# 4. find_package(Torch) in that prefix only (never Debian's by accident).

find_program(PRH_PYTHON_EXE NAMES "${PRH_PYTHON}" NO_CACHE)
if(NOT PRH_PYTHON_EXE)
  if(EXISTS "${PRH_PYTHON}")
    set(PRH_PYTHON_EXE "${PRH_PYTHON}")
  else()
    message(FATAL_ERROR "PRH_TORCH_FROM_PYTHON: the Python '${PRH_PYTHON}' (PRH_PYTHON) was not "
      "found; pass -DPRH_PYTHON=/path/to/python3 (the one whose PyTorch to use)")
  endif()
endif()

execute_process(
  COMMAND "${PRH_PYTHON_EXE}" -c
    "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(int(torch._C._GLIBCXX_USE_CXX11_ABI)); print(torch.__version__); print(torch.version.cuda or '')"
  RESULT_VARIABLE _prh_rc
  OUTPUT_VARIABLE _prh_out
  ERROR_VARIABLE _prh_err
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _prh_rc EQUAL 0)
  message(FATAL_ERROR "PRH_TORCH_FROM_PYTHON: '${PRH_PYTHON_EXE} -c \"import torch\"' failed "
    "(${_prh_rc}): ${_prh_err}\nInstall PyTorch for that Python, or name another with "
    "-DPRH_PYTHON=...")
endif()
string(REPLACE "\n" ";" _prh_lines "${_prh_out}")
list(LENGTH _prh_lines _prh_n)
if(_prh_n LESS 3)
  message(FATAL_ERROR "PRH_TORCH_FROM_PYTHON: unexpected answer from ${PRH_PYTHON_EXE}: "
    "'${_prh_out}' ${_prh_err}")
endif()
list(GET _prh_lines 0 PRH_TORCH_CMAKE_PREFIX)
list(GET _prh_lines 1 PRH_TORCH_CXX11_ABI)
list(GET _prh_lines 2 PRH_TORCH_PY_VERSION)
set(PRH_TORCH_CUDA "")
if(_prh_n GREATER 3)
  list(GET _prh_lines 3 PRH_TORCH_CUDA)
endif()
if(NOT EXISTS "${PRH_TORCH_CMAKE_PREFIX}/Torch/TorchConfig.cmake")
  message(FATAL_ERROR "PRH_TORCH_FROM_PYTHON: PyTorch ${PRH_TORCH_PY_VERSION} of "
    "${PRH_PYTHON_EXE} says its CMake files are in ${PRH_TORCH_CMAKE_PREFIX} "
    "(torch.utils.cmake_prefix_path), but there is no Torch/TorchConfig.cmake there: this "
    "PyTorch ships no LibTorch for C++ (some distributions strip it). Use one that does (the "
    "pip wheels), or Debian's libtorch-dev without PRH_TORCH_FROM_PYTHON.")
endif()

# The C++ ABI of this compiler (libstdc++'s default, or the flags given).
include(CheckCXXSourceCompiles)
check_cxx_source_compiles([=[
#include <string>
#if !defined(_GLIBCXX_USE_CXX11_ABI) || _GLIBCXX_USE_CXX11_ABI != 1
#error old ABI
#endif
int main() { return 0; }
]=] PRH_CXX11_ABI)
if(PRH_CXX11_ABI)
  set(_prh_our_abi 1)
else()
  set(_prh_our_abi 0)
endif()
if(NOT PRH_TORCH_CXX11_ABI STREQUAL _prh_our_abi)
  message(FATAL_ERROR "PRH_TORCH_FROM_PYTHON: C++ ABI mismatch. PyTorch ${PRH_TORCH_PY_VERSION} "
    "(${PRH_PYTHON_EXE}) was built with _GLIBCXX_USE_CXX11_ABI=${PRH_TORCH_CXX11_ABI} "
    "(torch._C._GLIBCXX_USE_CXX11_ABI), this compiler uses ${_prh_our_abi}, and prh links the "
    "system's spdlog, fmt and yaml-cpp, built with the new ABI (1): std::string would cross "
    "those libraries with two layouts. Use a PyTorch built with the new C++ ABI (pip wheels "
    "from 2.7 on, or the cxx11-abi LibTorch), or build without PRH_TORCH_FROM_PYTHON.")
endif()

if(PRH_TORCH_CUDA AND NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  set(_prh_cuda_hints)
  foreach(_v CUDA_HOME CUDA_PATH CUDA_ROOT)
    if(DEFINED ENV{${_v}})
      list(APPEND _prh_cuda_hints "$ENV{${_v}}/bin")
    endif()
  endforeach()
  file(GLOB _prh_cuda_dirs LIST_DIRECTORIES true /usr/local/cuda/bin /usr/local/cuda-*/bin)
  find_program(PRH_NVCC nvcc HINTS ${_prh_cuda_hints} PATHS ${_prh_cuda_dirs})
  if(NOT PRH_NVCC)
    message(FATAL_ERROR "PRH_TORCH_FROM_PYTHON: PyTorch ${PRH_TORCH_PY_VERSION} is built for CUDA "
      "${PRH_TORCH_CUDA}; its TorchConfig needs the CUDA toolkit (nvcc and the CUDA libraries), "
      "but nvcc was found neither on PATH nor in CUDA_HOME/CUDA_PATH nor /usr/local/cuda*/bin. "
      "Install the toolkit, or pass -DCMAKE_CUDA_COMPILER=/path/to/nvcc.")
  endif()
  set(CMAKE_CUDA_COMPILER "${PRH_NVCC}" CACHE FILEPATH "nvcc (PRH_TORCH_FROM_PYTHON)")
  get_filename_component(_prh_cuda_root "${PRH_NVCC}" DIRECTORY)
  get_filename_component(_prh_cuda_root "${_prh_cuda_root}" DIRECTORY)
  if(NOT CUDAToolkit_ROOT)
    set(CUDAToolkit_ROOT "${_prh_cuda_root}")
  endif()
endif()

message(STATUS "prh: LibTorch of PyTorch ${PRH_TORCH_PY_VERSION} (${PRH_PYTHON_EXE}), "
  "CUDA '${PRH_TORCH_CUDA}', CMake files in ${PRH_TORCH_CMAKE_PREFIX}")
find_package(Torch REQUIRED CONFIG PATHS "${PRH_TORCH_CMAKE_PREFIX}" NO_DEFAULT_PATH)
