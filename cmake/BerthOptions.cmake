# berth's build options. What is only useful to berth's own developers (tests, examples, fuzzers, benchmarks,
# the CLI, install rules) defaults to ON when berth is the top-level project and OFF when another project pulls
# it in with add_subdirectory or FetchContent; that project can still set any of them (CMP0077 is NEW).

option(BERTH_BUILD_TESTS "Build berth's tests and register them with CTest" ${PROJECT_IS_TOP_LEVEL})
option(BERTH_BUILD_EXAMPLES "Build every examples/*.cpp as an executable" ${PROJECT_IS_TOP_LEVEL})
option(BERTH_BUILD_FUZZERS "Build fuzz/*_fuzzer.cpp: replay executables, and libFuzzer executables with clang"
       ${PROJECT_IS_TOP_LEVEL})
option(BERTH_BUILD_BENCH "Build the benchmarks and measurement tools of bench/ (needs Google Benchmark)" ${PROJECT_IS_TOP_LEVEL})
option(BERTH_BUILD_CLI "Build the berth command-line tool from tools/berth/*.cpp" ${PROJECT_IS_TOP_LEVEL})
option(BERTH_BUILD_CLI_NET "Link the berth tool with berth::net so that 'berth serve' exists" ON)
option(BERTH_INSTALL "Generate install rules and the CMake package (find_package(berth))" ${PROJECT_IS_TOP_LEVEL})
option(BERTH_NET "Provide berth::net (needs standalone Asio and the TLS backend)" ON)
option(BERTH_WERROR "Turn compiler warnings into errors on berth's own targets" OFF)
option(BERTH_ASIO_INTERNALS "Opt in to the parts of Asio 1.22's implementation berth was checked against (accept4 and \
adoption, the first read wait without re-arming); refused at compile time on any other Asio. See \
include/berth/net/detail/asio_internals.hpp" OFF)

set(BERTH_TLS_BACKEND "BoringSSL" CACHE STRING "TLS library behind berth::net: BoringSSL or OpenSSL")
set_property(CACHE BERTH_TLS_BACKEND PROPERTY STRINGS BoringSSL OpenSSL)
if(NOT BERTH_TLS_BACKEND MATCHES "^(BoringSSL|OpenSSL)$")
  message(FATAL_ERROR "BERTH_TLS_BACKEND is '${BERTH_TLS_BACKEND}'; it must be BoringSSL or OpenSSL")
endif()

set(BERTH_SANITIZE "" CACHE STRING "Sanitizers for berth's own targets: empty, address,undefined or thread")
set_property(CACHE BERTH_SANITIZE PROPERTY STRINGS "" "address,undefined" "thread")
if(NOT BERTH_SANITIZE MATCHES "^(|address,undefined|thread)$")
  message(FATAL_ERROR "BERTH_SANITIZE is '${BERTH_SANITIZE}'; it must be empty, address,undefined or thread")
endif()

set(BERTH_FUZZ_SECONDS 30 CACHE STRING "Length in seconds of each bounded libFuzzer run (CTest label fuzz-run)")

if(BERTH_BUILD_CLI_NET AND NOT BERTH_NET)
  message(STATUS "berth: BERTH_NET is OFF, so the berth tool is built without 'serve'")
endif()

# Plain -std=c++20 rather than gnu++20 for berth's own targets, so GNU extensions cannot creep into the headers.
if(PROJECT_IS_TOP_LEVEL AND NOT DEFINED CMAKE_CXX_EXTENSIONS)
  set(CMAKE_CXX_EXTENSIONS OFF)
endif()

# ccache makes rebuilds after switching branches or build directories cheap. Only the top-level project decides
# this, and a launcher the user chose (even an empty one, to opt out) is kept.
if(PROJECT_IS_TOP_LEVEL AND NOT DEFINED CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(BERTH_CCACHE_PROGRAM ccache)
  mark_as_advanced(BERTH_CCACHE_PROGRAM)
  if(BERTH_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${BERTH_CCACHE_PROGRAM}")
  endif()
endif()
