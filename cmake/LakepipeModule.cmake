# lakepipe_module(<name> [DEPENDS <module>...] [LIBS <target>...])
#
# Declares the module in the calling folder (src/lakepipe/<name>/) as the static library
# lakepipe_mod_<name>: its *.cc files but the *_test.cc, which go into the one unit-test binary.
# DEPENDS names the lakepipe modules it may include and link, LIBS the outside libraries.
# The edges are enforced: check_module_edges.cmake runs at every build and fails it when a
# file includes "lakepipe/<other>/..." for a module it does not declare (tests may also
# include lakepipe/testing/).
function(lakepipe_module name)
  cmake_parse_arguments(MODULE "" "" "DEPENDS;LIBS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cc")
  set(tests ${sources})
  list(FILTER tests INCLUDE REGEX "_test\\.cc$")
  list(FILTER sources EXCLUDE REGEX "_test\\.cc$")

  set(target lakepipe_mod_${name})
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}/src"
                                              "${PROJECT_BINARY_DIR}/generated")
  list(TRANSFORM MODULE_DEPENDS PREPEND lakepipe_mod_ OUTPUT_VARIABLE module_targets)
  target_link_libraries(${target} PUBLIC ${module_targets} ${MODULE_LIBS})
  # Our uses of simdjson's inline code must not be exported either (see lakepipe_simdjson).
  set_target_properties(${target} PROPERTIES VISIBILITY_INLINES_HIDDEN ON)
  add_dependencies(${target} lakepipe_module_edges)

  set_property(GLOBAL APPEND PROPERTY LAKEPIPE_MODULES ${target})
  set_property(GLOBAL APPEND PROPERTY LAKEPIPE_TEST_SOURCES ${tests})
  string(REPLACE ";" "," allowed "${name};${MODULE_DEPENDS}")
  set_property(GLOBAL APPEND PROPERTY LAKEPIPE_MODULE_EDGES "${name}=${allowed}")
endfunction()
