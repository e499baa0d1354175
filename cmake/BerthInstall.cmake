# Install rules and the CMake package: after `cmake --install`, find_package(berth CONFIG) gives berth::berth and,
# when the dependencies of the installed TLS backend are found again, berth::net (component "net").

include(CMakePackageConfigHelpers)

# berth is header-only and its package files hold no architecture-specific path, so they go to share/.
set(BERTH_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/berth" CACHE STRING
    "Where berthConfig.cmake is installed, relative to the prefix")
mark_as_advanced(BERTH_INSTALL_CMAKEDIR)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/berth" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

install(TARGETS berth_headers EXPORT berthTargets)
install(EXPORT berthTargets NAMESPACE berth:: DESTINATION "${BERTH_INSTALL_CMAKEDIR}")

if(TARGET berth_net)
  install(TARGETS berth_net EXPORT berthNetTargets)
  install(EXPORT berthNetTargets NAMESPACE berth:: DESTINATION "${BERTH_INSTALL_CMAKEDIR}")
  set(BERTH_INSTALLED_NET TRUE)
else()
  set(BERTH_INSTALLED_NET FALSE)
endif()

if(TARGET berth)
  install(TARGETS berth RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()

configure_package_config_file(cmake/berthConfig.cmake.in "${PROJECT_BINARY_DIR}/berthConfig.cmake"
  INSTALL_DESTINATION "${BERTH_INSTALL_CMAKEDIR}")
# 0.x releases: only the same minor version is compatible.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/berthConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/berthConfig.cmake"
  "${PROJECT_BINARY_DIR}/berthConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/berthDependencies.cmake"
  DESTINATION "${BERTH_INSTALL_CMAKEDIR}")
