# Debian packages, built with `cpack` in a configured and built tree (included last by the top CMakeLists.txt,
# once every install() rule is known):
#
#   gatehouse                    gatehoused, the gatehouse CLI, the provider runner, libgatehouse-proto.so.1,
#                                the demo provider, schemas, the systemd unit, /etc/gatehouse/gatehoused.yaml
#   gatehouse-sdk-dev            headers, libgatehouse-sdk.a, the test kit, the gatehouse-sdk CMake package,
#                                gatehouse-sdk.pc, the provider author's guide
#   gatehouse-provider-NAME      every other provider of plugins/ (install component provider-NAME), one
#                                package each, so providers are upgraded independently of the host
#
# Files land under /usr whatever prefix the tree was configured with (CPACK_PACKAGING_INSTALL_PREFIX):
# configured with -DCMAKE_INSTALL_PREFIX=/usr the libraries go to /usr/lib/<multiarch>, otherwise to
# /usr/lib; both are in the dynamic loader's default path. Every version comes from project(VERSION).

# Files only the Debian package carries: outside the prefix, so `cmake --install` leaves them alone
# (EXCLUDE_FROM_ALL) and only cpack's per-component install picks them up.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/examples/gatehoused.yaml
  DESTINATION /etc/gatehouse COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/systemd/gatehoused.service
  DESTINATION /lib/systemd/system COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/gatehouse COMPONENT system EXCLUDE_FROM_ALL)
# The author's guide goes with the SDK, under any prefix too (`cmake --install` included): `gatehouse provider
# new` names <prefix>/share/doc/gatehouse-sdk-dev/provider-authors.md in the project's README.
install(FILES ${PROJECT_SOURCE_DIR}/docs/provider-authors.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/gatehouse-sdk-dev COMPONENT sdk)

set(_deb_dir ${CMAKE_CURRENT_LIST_DIR}/debian)
set(_abi "gatehouse-abi-${GATEHOUSE_ABI_MAJOR}")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gatehouse)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "gatehouse")
set(CPACK_PACKAGE_CONTACT "gatehouse maintainers <gatehouse@localhost>")
# Each package's description is its own (CPACK_DEBIAN_<PACKAGE>_DESCRIPTION below, first line the summary).
# CPackDeb ignores component-group descriptions and prepends a non-empty CPACK_PACKAGE_DESCRIPTION_SUMMARY to
# every package's description, which made gatehouse-sdk-dev (and every provider package) open with the host's
# summary: keep it empty.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # executables and shared objects; never the static SDK library
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# The host package: components runtime (binaries, protocol library, schemas), system (/etc, systemd, docs)
# and the demo provider, which is the example operators try first.
set(CPACK_COMPONENT_RUNTIME_GROUP gatehouse)
set(CPACK_COMPONENT_SYSTEM_GROUP gatehouse)
set(CPACK_COMPONENT_PROVIDER-DEMO_GROUP gatehouse)
set(CPACK_DEBIAN_GATEHOUSE_PACKAGE_NAME gatehouse)
set(CPACK_DEBIAN_GATEHOUSE_PACKAGE_SECTION admin)
# Explicit rather than dpkg-shlibdeps: binaries here need libgatehouse-proto.so.1, which is in this very
# package, and shlibdeps cannot resolve that before the package exists (tests/install/check_packages.sh checks
# every NEEDED library of the installed files against these lists). postgresql: the embedded default
# database runs initdb/pg_ctl/postgres from /usr/lib/postgresql/*/bin.
set(CPACK_DEBIAN_GATEHOUSE_PACKAGE_DEPENDS
  "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1, libprotobuf32, libpqxx-6.4, libpq5, libyaml-cpp0.7, libssl3, libspdlog1.10, libfmt9, libre2-9, postgresql, adduser")
# Providers depend on the provider ABI, not on a host version: any host speaking ABI N loads them.
set(CPACK_DEBIAN_GATEHOUSE_PACKAGE_PROVIDES "${_abi}")
set(CPACK_DEBIAN_GATEHOUSE_PACKAGE_CONTROL_EXTRA
  "${_deb_dir}/gatehouse/postinst;${_deb_dir}/gatehouse/prerm;${_deb_dir}/gatehouse/postrm;${_deb_dir}/gatehouse/conffiles;${_deb_dir}/gatehouse/triggers")
# dpkg-shlibdeps of a provider built against the installed SDK finds libgatehouse-proto.so.1 in this package
# and needs this shlibs entry to turn it into a dependency.
set(CPACK_DEBIAN_GATEHOUSE_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_GATEHOUSE_DESCRIPTION
  "just-in-time access broker: gatehoused, the gatehouse CLI and the provider runner
 gatehouse routes access grants to providers (plugins), revokes them when they expire and keeps an
 inventory of resources in PostgreSQL. This package carries the daemon (systemd unit gatehoused.service,
 config /etc/gatehouse/gatehoused.yaml), the operator CLI, the provider runner, the protocol library and
 the demo provider. Providers for real systems come in gatehouse-provider-* packages.")

# The SDK: what a provider author builds against.
set(CPACK_COMPONENT_SDK_GROUP gatehouse-sdk-dev)
set(CPACK_DEBIAN_GATEHOUSE-SDK-DEV_PACKAGE_NAME gatehouse-sdk-dev)
set(CPACK_DEBIAN_GATEHOUSE-SDK-DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_GATEHOUSE-SDK-DEV_PACKAGE_DEPENDS
  "gatehouse (= ${PROJECT_VERSION}), libprotobuf-dev, nlohmann-json3-dev, cmake")
# What `gatehouse provider new` projects use: a compiler, Catch2 for the test, dpkg-dev and file for
# gatehouse_package_provider() (dpkg-shlibdeps).
set(CPACK_DEBIAN_GATEHOUSE-SDK-DEV_PACKAGE_RECOMMENDS "g++, make, catch2, pkg-config, dpkg-dev, file")
set(CPACK_DEBIAN_GATEHOUSE-SDK-DEV_DESCRIPTION
  "SDK for writing gatehouse providers
 Headers (gatehouse/sdk.hpp, gatehouse/abi.h), libgatehouse-sdk.a, the test kit (gatehouse/testing.hpp,
 libgatehouse-testing), the CMake package (find_package(gatehouse-sdk): gatehouse::sdk, gatehouse::testing,
 gatehouse_add_provider(), gatehouse_package_provider()) and gatehouse-sdk.pc. Start a provider with
 `gatehouse provider new NAME --publisher P`; the guide is
 /usr/share/doc/gatehouse-sdk-dev/provider-authors.md.")

# Every other provider of this tree: its own package.
set(_components runtime system sdk provider-demo)
get_cmake_property(_all_components COMPONENTS)
foreach(_c IN LISTS _all_components)
  if(NOT _c MATCHES "^provider-(.+)$" OR _c STREQUAL "provider-demo")
    continue()
  endif()
  set(_name "${CMAKE_MATCH_1}")
  set(_pkg "gatehouse-provider-${_name}")
  string(TOUPPER "${_c}" _C)
  string(TOUPPER "${_pkg}" _P)
  list(APPEND _components ${_c})
  set(CPACK_COMPONENT_${_C}_GROUP ${_pkg})
  set(CPACK_DEBIAN_${_P}_PACKAGE_NAME ${_pkg})
  set(CPACK_DEBIAN_${_P}_PACKAGE_SECTION admin)
  set(CPACK_DEBIAN_${_P}_PACKAGE_DEPENDS "${_abi}, gatehouse (>= ${PROJECT_VERSION})")
  set(CPACK_DEBIAN_${_P}_DESCRIPTION "gatehouse provider ${_name}
 Installs ${_name}.so in /usr/lib/gatehouse/providers, where gatehoused finds it.")
endforeach()
set(CPACK_DEBIAN_GATEHOUSE-PROVIDER-POSTGRES_PACKAGE_DEPENDS
  "${_abi}, gatehouse (>= ${PROJECT_VERSION}), libpqxx-6.4, libpq5, libc6 (>= 2.36), libstdc++6 (>= 12)")
set(CPACK_DEBIAN_GATEHOUSE-PROVIDER-POSTGRES_DESCRIPTION "gatehouse provider for PostgreSQL roles
 Just-in-time membership in PostgreSQL roles (gatehouse/postgres): grants and revokes role membership and
 loads databases and roles into the inventory. Installs postgres.so in /usr/lib/gatehouse/providers.")
set(CPACK_COMPONENTS_ALL ${_components})

include(CPack)
