# berth's third-party dependencies as imported targets. berth's own build includes this file, and so does the
# installed berthConfig.cmake, so an installed berth links exactly what the build tree links.
#
#   berth_find_model_dependencies(<result-var> [REQUIRED])
#     berth::toml_header_only        toml++ >= 3.3 headers, header-only mode, exceptions off
#     nlohmann_json::nlohmann_json   nlohmann-json >= 3.11 (its own package config)
#
#   berth_find_net_dependencies(<BoringSSL|OpenSSL> <result-var> [REQUIRED])
#     berth::asio                    standalone Asio headers (Debian ships no CMake package for it)
#     BoringSSL::SSL, BoringSSL::Crypto   or   OpenSSL::SSL, OpenSSL::Crypto
#     and sets BERTH_TLS_TARGET to the SSL target of the chosen backend.
#
# <result-var> is set to TRUE or FALSE. With REQUIRED, a missing dependency is a fatal error naming the Debian
# package; without it the functions stay quiet, which is what a package config file needs.
#
# The targets are created once per directory scope and never GLOBAL, so two subprojects that each call
# find_package(berth) do not collide.

function(_berth_missing_dependency required what)
  if(required)
    message(FATAL_ERROR "berth: ${what}")
  endif()
endfunction()

function(berth_find_model_dependencies result_var)
  cmake_parse_arguments(PARSE_ARGV 1 arg "REQUIRED" "" "")
  set(${result_var} FALSE PARENT_SCOPE)

  if(NOT TARGET berth::toml_header_only)
    # Only used to locate and version-check the headers. tomlplusplus::tomlplusplus itself is the *compiled* mode
    # (TOML_SHARED_LIB=1, a shared library built with exceptions), which would turn berth's header-only,
    # exception-free use of toml++ into undefined references, so it must never be linked.
    find_package(tomlplusplus 3.3 CONFIG QUIET)
    if(NOT TARGET tomlplusplus::tomlplusplus)
      _berth_missing_dependency("${arg_REQUIRED}" "toml++ 3.3 or newer not found (Debian: libtomlplusplus-dev)")
      return()
    endif()
    # 3.3.x and 3.4.x are the releases berth is tested with; both have undefined behaviour on non-ASCII input,
    # which config/toml_safe.hpp patches. Later releases carry the upstream fixes and are used as they are.
    if(tomlplusplus_VERSION VERSION_GREATER_EQUAL 4)
      _berth_missing_dependency("${arg_REQUIRED}"
        "toml++ ${tomlplusplus_VERSION} found; berth supports toml++ 3.3 and later 3.x releases")
      return()
    elseif(tomlplusplus_VERSION VERSION_GREATER_EQUAL 3.5)
      message(STATUS "berth: toml++ ${tomlplusplus_VERSION} is newer than the releases berth is tested with "
                     "(3.3 and 3.4); it is used unpatched")
    endif()
    set(BERTH_TOML_VERSION "${tomlplusplus_VERSION}" PARENT_SCOPE)
    get_target_property(toml_include_dirs tomlplusplus::tomlplusplus INTERFACE_INCLUDE_DIRECTORIES)
    add_library(berth::toml_header_only INTERFACE IMPORTED)
    set_target_properties(berth::toml_header_only PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${toml_include_dirs}"
      INTERFACE_COMPILE_DEFINITIONS "TOML_HEADER_ONLY=1;TOML_EXCEPTIONS=0")
  endif()

  if(NOT TARGET nlohmann_json::nlohmann_json)
    find_package(nlohmann_json 3.11 CONFIG QUIET)
    if(NOT TARGET nlohmann_json::nlohmann_json)
      _berth_missing_dependency("${arg_REQUIRED}" "nlohmann-json 3.11 or newer not found (Debian: nlohmann-json3-dev)")
      return()
    endif()
  endif()

  set(${result_var} TRUE PARENT_SCOPE)
endfunction()

# BoringSSL as Debian's android-libboringssl-dev installs it: headers in /usr/include/android/openssl, libraries in
# /usr/lib/<arch>/android (not in ld.so.conf, so every program needs an rpath; CMake adds it for imported shared
# libraries in the build tree). NO_DEFAULT_PATH is essential: the default search finds OpenSSL 3's headers and
# libraries, and a mix of the two fails at link time. The cache variables BORINGSSL_INCLUDE_DIR,
# BORINGSSL_SSL_LIBRARY and BORINGSSL_CRYPTO_LIBRARY can be set to use a BoringSSL installed elsewhere.
function(_berth_find_boringssl required result_var)
  set(${result_var} FALSE PARENT_SCOPE)
  if(NOT TARGET BoringSSL::SSL)
    set(boringssl_libdir "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/android")
    find_path(BORINGSSL_INCLUDE_DIR openssl/is_boringssl.h PATHS /usr/include/android NO_DEFAULT_PATH)
    find_library(BORINGSSL_SSL_LIBRARY NAMES ssl PATHS "${boringssl_libdir}" NO_DEFAULT_PATH)
    find_library(BORINGSSL_CRYPTO_LIBRARY NAMES crypto PATHS "${boringssl_libdir}" NO_DEFAULT_PATH)
    if(NOT BORINGSSL_INCLUDE_DIR OR NOT BORINGSSL_SSL_LIBRARY OR NOT BORINGSSL_CRYPTO_LIBRARY)
      _berth_missing_dependency("${required}"
        "BoringSSL not found (Debian: android-libboringssl-dev), or choose -DBERTH_TLS_BACKEND=OpenSSL")
      return()
    endif()
    # An imported target's include directory is passed as -isystem, which is searched before /usr/include, so
    # <openssl/ssl.h> resolves to BoringSSL's header and never to OpenSSL 3's.
    add_library(BoringSSL::Crypto SHARED IMPORTED)
    set_target_properties(BoringSSL::Crypto PROPERTIES
      IMPORTED_LOCATION "${BORINGSSL_CRYPTO_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${BORINGSSL_INCLUDE_DIR}")
    add_library(BoringSSL::SSL SHARED IMPORTED)
    set_target_properties(BoringSSL::SSL PROPERTIES
      IMPORTED_LOCATION "${BORINGSSL_SSL_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${BORINGSSL_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES BoringSSL::Crypto)
  endif()
  set(${result_var} TRUE PARENT_SCOPE)
endfunction()

function(berth_find_net_dependencies backend result_var)
  cmake_parse_arguments(PARSE_ARGV 2 arg "REQUIRED" "" "")
  set(${result_var} FALSE PARENT_SCOPE)

  find_package(Threads QUIET)
  if(NOT TARGET Threads::Threads)
    _berth_missing_dependency("${arg_REQUIRED}" "no threads library found")
    return()
  endif()

  if(NOT TARGET berth::asio)
    find_path(BERTH_ASIO_INCLUDE_DIR asio.hpp)
    if(NOT BERTH_ASIO_INCLUDE_DIR)
      _berth_missing_dependency("${arg_REQUIRED}" "standalone Asio not found (Debian: libasio-dev)")
      return()
    endif()
    # ASIO_HAS_CO_AWAIT: Asio enables co_await for clang only when <experimental/coroutine> exists, which
    # libstdc++ 12 lacks, so without it clang has no asio::awaitable. It is set for every translation unit (ODR).
    add_library(berth::asio INTERFACE IMPORTED)
    set_target_properties(berth::asio PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${BERTH_ASIO_INCLUDE_DIR}"
      INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE;ASIO_NO_DEPRECATED;$<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_CO_AWAIT=1>"
      INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()

  if(backend STREQUAL "BoringSSL")
    _berth_find_boringssl("${arg_REQUIRED}" found)
    set(tls_target BoringSSL::SSL)
  elseif(backend STREQUAL "OpenSSL")
    if(NOT TARGET OpenSSL::SSL)
      find_package(OpenSSL 3.0 QUIET)
    endif()
    if(TARGET OpenSSL::SSL)
      set(found TRUE)
    else()
      set(found FALSE)
      _berth_missing_dependency("${arg_REQUIRED}" "OpenSSL 3 not found (Debian: libssl-dev)")
    endif()
    set(tls_target OpenSSL::SSL)
  else()
    message(FATAL_ERROR "berth: unknown TLS backend '${backend}' (BoringSSL or OpenSSL)")
  endif()
  if(NOT found)
    return()
  endif()

  set(BERTH_TLS_TARGET ${tls_target} PARENT_SCOPE)
  set(${result_var} TRUE PARENT_SCOPE)
endfunction()
