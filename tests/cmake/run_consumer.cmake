# Configures, builds and tests one of the consumer projects next to this script, the way a user's project would
# use berth:
#   find_package      berth configured on its own (install rules only), installed into <WORK_DIR>/prefix,
#                     then found with find_package(berth CONFIG)
#   add_subdirectory  berth's source tree added with add_subdirectory()
#   single_header     only the committed single_include/berth/berth.hpp and berth's dependencies
# The consumer project registers its programs as CTest tests; this script fails if any step or program fails.
#
# cmake -DCONSUMER=<kind> -DWORK_DIR=<dir> -DBERTH_SOURCE_DIR=<dir> -DGENERATOR=<generator>
#       -DCXX_COMPILER=<path> -DCOMPILER_LAUNCHER=<launcher or empty> -DTLS_BACKEND=<BoringSSL|OpenSSL>
#       -DWITH_NET=<bool> -DEXPECTED_VERSION=<x.y.z> -P run_consumer.cmake

foreach(variable IN ITEMS CONSUMER WORK_DIR BERTH_SOURCE_DIR GENERATOR CXX_COMPILER TLS_BACKEND WITH_NET
                          EXPECTED_VERSION)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "run_consumer.cmake needs -D${variable}=...")
  endif()
endforeach()
set(consumer_source_dir "${CMAKE_CURRENT_LIST_DIR}/${CONSUMER}_consumer")
if(NOT IS_DIRECTORY "${consumer_source_dir}")
  message(FATAL_ERROR "no consumer project ${consumer_source_dir}")
endif()

function(run_step)
  execute_process(COMMAND ${ARGN} COMMAND_ECHO STDOUT COMMAND_ERROR_IS_FATAL ANY)
endfunction()

# Start from nothing: a stale install or cache from an earlier run must not make this run pass.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(common_args -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Debug)
if(COMPILER_LAUNCHER)
  list(APPEND common_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER}")
endif()
set(consumer_args
  "-DBERTH_SOURCE_DIR=${BERTH_SOURCE_DIR}"
  "-DEXPECTED_VERSION=${EXPECTED_VERSION}"
  "-DWITH_NET=${WITH_NET}"
  "-DBERTH_TLS_BACKEND=${TLS_BACKEND}")

if(CONSUMER STREQUAL "find_package")
  set(prefix "${WORK_DIR}/prefix")
  run_step("${CMAKE_COMMAND}" -S "${BERTH_SOURCE_DIR}" -B "${WORK_DIR}/berth-build" ${common_args}
           "-DCMAKE_INSTALL_PREFIX=${prefix}" -DBERTH_INSTALL=ON
           -DBERTH_BUILD_TESTS=OFF -DBERTH_BUILD_EXAMPLES=OFF -DBERTH_BUILD_FUZZERS=OFF -DBERTH_BUILD_BENCH=OFF
           -DBERTH_BUILD_CLI=OFF "-DBERTH_NET=${WITH_NET}" "-DBERTH_TLS_BACKEND=${TLS_BACKEND}")
  run_step("${CMAKE_COMMAND}" --install "${WORK_DIR}/berth-build")
  list(APPEND consumer_args "-DCMAKE_PREFIX_PATH=${prefix}")
elseif(CONSUMER STREQUAL "add_subdirectory")
  list(APPEND consumer_args "-DBERTH_NET=${WITH_NET}")
endif()

run_step("${CMAKE_COMMAND}" -S "${consumer_source_dir}" -B "${WORK_DIR}/consumer-build" ${common_args}
         ${consumer_args})
run_step("${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer-build")
run_step("${CMAKE_CTEST_COMMAND}" --test-dir "${WORK_DIR}/consumer-build" --output-on-failure --no-tests=error)
