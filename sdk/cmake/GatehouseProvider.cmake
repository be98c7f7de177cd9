# gatehouse_add_provider(NAME SOURCES src... [PUBLISHER slug] [LINK_LIBRARIES libs...] [NO_INSTALL])
#
# Builds NAME.so as a gatehouse provider: a MODULE library linked against gatehouse::sdk, compiled with
# hidden visibility and exporting exactly one symbol (gatehouse_provider_v1), linked with --no-undefined so
# a missing symbol is a build error and not a load-time surprise, and with -fno-gnu-unique so the library
# can actually be unloaded. Installs to GATEHOUSE_PROVIDER_INSTALL_DIR (default lib/gatehouse/providers,
# where gatehoused looks: <prefix>/lib/gatehouse/providers and /usr/lib/gatehouse/providers) in the install
# component provider-NAME, with an RPATH that finds the SDK's protocol library once installed.
#
#   PUBLISHER       the provider's publisher (lowercase letters, digits, '-'), written only here: the sources
#                   get it as the macro GATEHOUSE_PROVIDER_PUBLISHER (pass that to GATEHOUSE_PROVIDER), a
#                   GATEHOUSE_PROVIDER that names another publisher fails to compile (static_assert), and
#                   gatehouse_package_provider() uses it.
#   LINK_LIBRARIES  what the provider's code links, e.g. a client library:
#                     find_package(PkgConfig REQUIRED)
#                     pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
#                     gatehouse_add_provider(redis_acl SOURCES src/redis_acl.cpp LINK_LIBRARIES PkgConfig::HIREDIS)
#                   Shared libraries are linked as usual (gatehouse_package_provider() turns them into Debian
#                   dependencies); link static archives only if they are built with -fPIC.
#
# gatehouse_package_provider(NAME [PUBLISHER text] [MAINTAINER "Name <mail>"] [DESCRIPTION text]
#                            [DEPENDS debian-deps...])
#
# Makes `cpack` (or `make package`) produce gatehouse-provider-NAME_<PROJECT_VERSION>_<arch>.deb holding
# NAME.so in /usr/lib/gatehouse/providers. PUBLISHER defaults to gatehouse_add_provider's (giving another one
# is an error). Depends: the ABI the SDK speaks (gatehouse-abi-<major>, provided
# by the gatehouse package), gatehouse (>= the SDK version), and the shared libraries NAME.so links
# (dpkg-shlibdeps; needs dpkg-dev and file). Call it once, after gatehouse_add_provider(NAME ...), in the
# top-level CMakeLists.txt of a standalone provider project.
#
# Used the same way inside the gatehouse tree and by authors after find_package(gatehouse-sdk).
set(_GATEHOUSE_PROVIDER_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

# Relative to the install prefix. Not CMAKE_INSTALL_LIBDIR: on a /usr prefix that is lib/x86_64-linux-gnu,
# while providers are architecture-bound plugins that gatehoused looks for in lib/gatehouse/providers.
if(NOT DEFINED GATEHOUSE_PROVIDER_INSTALL_DIR)
  set(GATEHOUSE_PROVIDER_INSTALL_DIR "lib/gatehouse/providers")
endif()

function(gatehouse_add_provider NAME)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "NO_INSTALL" "PUBLISHER" "SOURCES;LINK_LIBRARIES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "gatehouse_add_provider(${NAME}): SOURCES is required")
  endif()
  if(NOT TARGET gatehouse::sdk)
    message(FATAL_ERROR "gatehouse_add_provider(${NAME}): gatehouse::sdk not found; call find_package(gatehouse-sdk) first")
  endif()

  add_library(${NAME} MODULE ${ARG_SOURCES})
  target_link_libraries(${NAME} PRIVATE gatehouse::sdk ${ARG_LINK_LIBRARIES})
  if(DEFINED ARG_PUBLISHER)
    # The meta-schema's rule for publishers, checked at configure time rather than when the host loads it.
    if(NOT ARG_PUBLISHER MATCHES "^[a-z0-9][a-z0-9-]*$")
      message(FATAL_ERROR "gatehouse_add_provider(${NAME}): PUBLISHER '${ARG_PUBLISHER}' must be lowercase letters, digits and '-', starting with a letter or digit")
    endif()
    # sdk.hpp's GATEHOUSE_PROVIDER static_asserts that its publisher is this one.
    target_compile_definitions(${NAME} PRIVATE GATEHOUSE_PROVIDER_PUBLISHER="${ARG_PUBLISHER}")
    set_target_properties(${NAME} PROPERTIES GATEHOUSE_PUBLISHER "${ARG_PUBLISHER}")
  endif()
  target_compile_features(${NAME} PRIVATE cxx_std_20)
  set(_map "${_GATEHOUSE_PROVIDER_CMAKE_DIR}/gatehouse-provider.map")
  target_compile_options(${NAME} PRIVATE $<$<COMPILE_LANG_AND_ID:CXX,GNU>:-fno-gnu-unique>)
  target_link_options(${NAME} PRIVATE "LINKER:--no-undefined" "LINKER:--version-script=${_map}")
  set_target_properties(${NAME} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${_map}")

  if(NOT ARG_NO_INSTALL)
    # Where libgatehouse-proto.so.1 is once installed: inside the gatehouse tree, this build's libdir;
    # for an author, the installed SDK's libdir (set by gatehouse-sdkConfig.cmake).
    if(DEFINED GATEHOUSE_SDK_LIBRARY_DIR)
      set(_proto_dir "${GATEHOUSE_SDK_LIBRARY_DIR}")
    else()
      include(GNUInstallDirs)
      set(_proto_dir "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}")
    endif()
    # A system directory (the Debian packages: /usr/lib/x86_64-linux-gnu or /usr/lib) needs no RPATH;
    # anywhere else the provider finds the library relative to itself ($ORIGIN), so the tree can move.
    set(_system_dirs ${CMAKE_PLATFORM_IMPLICIT_LINK_DIRECTORIES} ${CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES})
    if(NOT DEFINED GATEHOUSE_SDK_LIBRARY_DIR OR NOT _proto_dir IN_LIST _system_dirs)
      file(RELATIVE_PATH _rel "${CMAKE_INSTALL_PREFIX}/${GATEHOUSE_PROVIDER_INSTALL_DIR}" "${_proto_dir}")
      set_target_properties(${NAME} PROPERTIES INSTALL_RPATH "$ORIGIN/${_rel}")
    endif()
    install(TARGETS ${NAME} LIBRARY DESTINATION "${GATEHOUSE_PROVIDER_INSTALL_DIR}" COMPONENT provider-${NAME})
  endif()
endfunction()

function(gatehouse_package_provider NAME)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "PUBLISHER;MAINTAINER;DESCRIPTION" "DEPENDS")
  if(NOT TARGET ${NAME})
    message(FATAL_ERROR "gatehouse_package_provider(${NAME}): call gatehouse_add_provider(${NAME} ...) first")
  endif()
  if(NOT DEFINED GATEHOUSE_SDK_VERSION OR NOT DEFINED GATEHOUSE_SDK_ABI_MAJOR)
    message(FATAL_ERROR "gatehouse_package_provider(${NAME}): use it after find_package(gatehouse-sdk)")
  endif()
  if(NOT PROJECT_VERSION)
    message(FATAL_ERROR "gatehouse_package_provider(${NAME}): give the project a version: project(${NAME} VERSION 0.1.0)")
  endif()
  get_target_property(_built_publisher ${NAME} GATEHOUSE_PUBLISHER)
  if(_built_publisher AND ARG_PUBLISHER AND NOT ARG_PUBLISHER STREQUAL _built_publisher)
    message(FATAL_ERROR "gatehouse_package_provider(${NAME}): PUBLISHER '${ARG_PUBLISHER}' differs from gatehouse_add_provider's '${_built_publisher}'; give it once, to gatehouse_add_provider")
  endif()
  if(NOT ARG_PUBLISHER AND _built_publisher)
    set(ARG_PUBLISHER "${_built_publisher}")
  endif()
  if(NOT ARG_PUBLISHER)
    set(ARG_PUBLISHER "${NAME}")
  endif()
  if(NOT ARG_MAINTAINER)
    set(ARG_MAINTAINER "${ARG_PUBLISHER} <root@localhost>")
  endif()
  string(REPLACE "_" "-" _slug "${NAME}")  # Debian package names have no '_'
  if(NOT ARG_DESCRIPTION)
    set(ARG_DESCRIPTION "gatehouse provider ${ARG_PUBLISHER}/${_slug}")
  endif()

  set(_pkg "gatehouse-provider-${_slug}")
  set(CPACK_GENERATOR DEB)
  set(CPACK_PACKAGE_NAME "${_pkg}")
  set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
  set(CPACK_PACKAGE_CONTACT "${ARG_MAINTAINER}")
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${ARG_DESCRIPTION}")
  set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
  set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};provider-${NAME};/")
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
  set(CPACK_DEBIAN_PACKAGE_NAME "${_pkg}")
  set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  # With the SDK installed under a prefix (cmake --install … --prefix DIR) rather than from gatehouse-sdk-dev,
  # dpkg-shlibdeps would not find libgatehouse-proto.so.1 there: tell it where. No package owns that file, so
  # it adds no dependency for it (cpack passes --ignore-missing-info); gatehouse-abi-N covers it, since the
  # gatehouse package carries the library.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${GATEHOUSE_SDK_LIBRARY_DIR}")
  set(_depends "gatehouse-abi-${GATEHOUSE_SDK_ABI_MAJOR}" "gatehouse (>= ${GATEHOUSE_SDK_VERSION})" ${ARG_DEPENDS})
  list(JOIN _depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
  # CPackDeb puts CPACK_PACKAGE_DESCRIPTION_SUMMARY first: the description is the body only, or the summary
  # would appear twice.
  set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Installs ${NAME}.so in /usr/lib/gatehouse/providers, where gatehoused finds it.")
  set(CPACK_STRIP_FILES OFF)
  include(CPack)
endfunction()
