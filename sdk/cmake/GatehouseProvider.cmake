# gatehouse_add_provider(NAME SOURCES src... [LINK_LIBRARIES libs...] [NO_INSTALL])
#
# Builds NAME.so as a gatehouse provider: a MODULE library linked against gatehouse::sdk, compiled with
# hidden visibility and exporting exactly one symbol (gatehouse_provider_v1), linked with --no-undefined so
# a missing symbol is a build error and not a load-time surprise, and with -fno-gnu-unique so the library
# can actually be unloaded. Installs to lib/gatehouse/providers with an RPATH that finds the SDK's protocol
# library once installed.
#
# Used the same way inside the gatehouse tree and by authors after find_package(gatehouse-sdk).
set(_GATEHOUSE_PROVIDER_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(gatehouse_add_provider NAME)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "NO_INSTALL" "" "SOURCES;LINK_LIBRARIES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "gatehouse_add_provider(${NAME}): SOURCES is required")
  endif()
  if(NOT TARGET gatehouse::sdk)
    message(FATAL_ERROR "gatehouse_add_provider(${NAME}): gatehouse::sdk not found; call find_package(gatehouse-sdk) first")
  endif()

  add_library(${NAME} MODULE ${ARG_SOURCES})
  target_link_libraries(${NAME} PRIVATE gatehouse::sdk ${ARG_LINK_LIBRARIES})
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
    if(NOT DEFINED GATEHOUSE_PROVIDER_INSTALL_DIR)
      include(GNUInstallDirs)
      set(GATEHOUSE_PROVIDER_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/gatehouse/providers")
    endif()
    # lib/gatehouse/providers/NAME.so finds lib/libgatehouse-proto.so.1 two levels up.
    set_target_properties(${NAME} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
    install(TARGETS ${NAME} LIBRARY DESTINATION "${GATEHOUSE_PROVIDER_INSTALL_DIR}" COMPONENT provider-${NAME})
  endif()
endfunction()
