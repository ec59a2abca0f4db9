# Finds lakepipe's dependencies. scripts/install-deps puts what Debian does not ship under
# .deps/: Arrow C++ from the pyarrow wheel and DuckDB's C API. A system Arrow or DuckDB
# (find_package / a library on the default paths) is used instead when present.

set(LAKEPIPE_DEPS_DIR "${CMAKE_SOURCE_DIR}/.deps" CACHE PATH "Where scripts/install-deps installs")

# --- Arrow C++ 26 -------------------------------------------------------------------
find_package(Arrow 26 QUIET CONFIG)
if(Arrow_FOUND)
  find_package(Parquet REQUIRED CONFIG)
  find_package(ArrowDataset REQUIRED CONFIG)
  add_library(lakepipe_arrow INTERFACE)
  target_link_libraries(lakepipe_arrow INTERFACE
    ArrowDataset::arrow_dataset_shared Parquet::parquet_shared Arrow::arrow_shared)
  message(STATUS "Arrow: system ${Arrow_VERSION}")
else()
  set(_arrow "${LAKEPIPE_DEPS_DIR}/arrow")
  if(NOT EXISTS "${_arrow}/include/arrow/api.h")
    message(FATAL_ERROR "Arrow C++ not found: run scripts/install-deps (or make deps)")
  endif()
  add_library(lakepipe_arrow INTERFACE)
  target_include_directories(lakepipe_arrow SYSTEM INTERFACE "${_arrow}/include")
  foreach(_lib arrow_dataset arrow_acero parquet arrow_s3 arrow_compute arrow)
    target_link_libraries(lakepipe_arrow INTERFACE "${_arrow}/lib/lib${_lib}.so")
  endforeach()
  # Resolve the wheel's libraries without LD_LIBRARY_PATH: rpath to the real files.
  file(REAL_PATH "${_arrow}/lib/libarrow.so" _arrow_real)
  get_filename_component(_arrow_real_dir "${_arrow_real}" DIRECTORY)
  list(APPEND LAKEPIPE_RPATH "${_arrow_real_dir}")
  message(STATUS "Arrow: pyarrow wheel at ${_arrow_real_dir}")
endif()

# --- DuckDB 1.5.5 C API -------------------------------------------------------------
find_path(DUCKDB_INCLUDE_DIR duckdb.h HINTS "${LAKEPIPE_DEPS_DIR}/duckdb/include")
find_library(DUCKDB_LIBRARY duckdb HINTS "${LAKEPIPE_DEPS_DIR}/duckdb/lib")
if(NOT DUCKDB_INCLUDE_DIR OR NOT DUCKDB_LIBRARY)
  message(FATAL_ERROR "DuckDB C API not found: run scripts/install-deps (or make deps)")
endif()
add_library(lakepipe_duckdb INTERFACE)
target_include_directories(lakepipe_duckdb SYSTEM INTERFACE "${DUCKDB_INCLUDE_DIR}")
target_link_libraries(lakepipe_duckdb INTERFACE "${DUCKDB_LIBRARY}")
get_filename_component(_duckdb_dir "${DUCKDB_LIBRARY}" DIRECTORY)
list(APPEND LAKEPIPE_RPATH "${_duckdb_dir}")
# Extensions are loaded by absolute path; the default is baked in, LAKEPIPE_DUCKDB_EXTENSIONS
# overrides it at run time.
set(LAKEPIPE_DUCKDB_EXTENSION_DIR "${LAKEPIPE_DEPS_DIR}/duckdb/extensions"
    CACHE PATH "Folder holding httpfs/azure/postgres_scanner .duckdb_extension files")
# A wheel bakes in no folder of the machine that built it: the package sets the variable to
# the extensions it carries (python/lakepipe/_binary.py, _engine_loader.py).
if(LAKEPIPE_PYTHON)
  set(LAKEPIPE_BAKED_DUCKDB_EXTENSION_DIR "")
else()
  set(LAKEPIPE_BAKED_DUCKDB_EXTENSION_DIR "${LAKEPIPE_DUCKDB_EXTENSION_DIR}")
endif()

# --- simdjson, private ----------------------------------------------------------------
# pyarrow's libparquet exports its own bundled simdjson (3.6.5) under the same symbol names
# as any shared simdjson; linking Debian's libsimdjson.so (3.0.1) beside it makes one side
# call the other's incompatible code (a crash seen in our tests). So simdjson is compiled
# into lakepipe with hidden visibility: our code binds to our copy, Arrow keeps its own.
set(_simdjson "${LAKEPIPE_DEPS_DIR}/simdjson")
if(NOT EXISTS "${_simdjson}/simdjson.cpp")
  message(FATAL_ERROR "simdjson sources not found: run scripts/install-deps (or make deps)")
endif()
add_library(lakepipe_simdjson STATIC "${_simdjson}/simdjson.cpp")
target_include_directories(lakepipe_simdjson SYSTEM BEFORE PUBLIC "${_simdjson}")
target_compile_definitions(lakepipe_simdjson PUBLIC SIMDJSON_THREADS_ENABLED=1)
set_target_properties(lakepipe_simdjson PROPERTIES CXX_VISIBILITY_PRESET hidden
                      VISIBILITY_INLINES_HIDDEN ON POSITION_INDEPENDENT_CODE ON)
target_compile_options(lakepipe_simdjson PRIVATE -w)

# --- Debian packages ----------------------------------------------------------------
find_package(PkgConfig REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(SQLite3 REQUIRED)  # the embedded table-store metadata
find_package(OpenSSL REQUIRED)  # SHA-256 for table checksums and cache keys
find_package(Threads REQUIRED)

set(CMAKE_BUILD_RPATH "${LAKEPIPE_RPATH}")
set(CMAKE_INSTALL_RPATH "${LAKEPIPE_RPATH}")
