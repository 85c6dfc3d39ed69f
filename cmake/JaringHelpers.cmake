# Helpers that give every Jaring target the same shape, in the spirit of
# Abseil's absl_cc_library: one call per library, and every link goes
# through the jaring::NAME alias.
#
#   jaring_cc_library(NAME eventlog SRCS a.cc b.cc HDRS a.h DEPS jaring::base)
#   jaring_cc_binary(NAME jaring SRCS main.cc DEPS jaring::eventlog)
#   jaring_cc_test(NAME eventlog_contract_test SRCS t.cc DEPS jaring::eventlog)

set(JARING_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)

function(jaring_apply_common target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE ${JARING_WARNINGS})
endfunction()

# GENERATED marks code written by a generator (protoc): it is not held to our
# warning flags. INCLUDES adds public include directories.
function(jaring_cc_library)
  cmake_parse_arguments(ARG "GENERATED" "NAME" "SRCS;HDRS;DEPS;PRIVATE_DEPS;INCLUDES" ${ARGN})
  set(target jaring_${ARG_NAME})
  if(ARG_SRCS)
    add_library(${target} STATIC ${ARG_SRCS} ${ARG_HDRS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${ARG_INCLUDES})
    target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    if(ARG_GENERATED)
      target_compile_features(${target} PUBLIC cxx_std_20)
    else()
      jaring_apply_common(${target})
    endif()
  else()
    add_library(${target} INTERFACE ${ARG_HDRS})
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
    target_compile_features(${target} INTERFACE cxx_std_20)
  endif()
  add_library(jaring::${ARG_NAME} ALIAS ${target})
endfunction()

function(jaring_cc_binary)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${JARING_BIN_DIR})
  jaring_apply_common(${ARG_NAME})
endfunction()

# A GoogleTest binary registered with ctest. LABELS lets CI pick groups
# (e.g. "kafka", "crash").
function(jaring_cc_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} jaring::testing GTest::gmock GTest::gtest_main)
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${JARING_TEST_BIN_DIR})
  jaring_apply_common(${ARG_NAME})
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()
