# The Debian packages (docs/operations.md, "Installing the package"), built from the release preset:
#
#   cmake --build --preset release && (cd build/release && cpack -G DEB)
#
#   communesync-server   the server, its systemd unit, /etc/communesync/config.json (a conffile: kept
#                        across upgrades), the dashboard's and the field app's files, the forms
#   communesync-tools    communesync (the device CLI) and communesync-admin
#
# Dependencies come from dpkg-shlibdeps (the shared libraries the programs link). The maintainer
# scripts are in server/package/.
set(CPACK_PACKAGE_NAME communesync)
set(CPACK_PACKAGE_VENDOR "communesync")
set(CPACK_PACKAGE_CONTACT "communesync maintainers <communesync@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "offline-first sync for commune field surveys")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL server tools)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME communesync-server)
set(CPACK_DEBIAN_SERVER_DESCRIPTION
    "communesync sync server: offline-first field surveys for commune working groups\n The authoritative server (RocksDB store, WebSocket sync, dashboard, field app, reports) under\n systemd, with its config in /etc/communesync and its store in /var/lib/communesync.")
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/server/package/conffiles ${PROJECT_SOURCE_DIR}/server/package/postinst
    ${PROJECT_SOURCE_DIR}/server/package/prerm ${PROJECT_SOURCE_DIR}/server/package/postrm)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME communesync-tools)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION
    "communesync tools: the device CLI and the administrator's tool\n communesync (record offline and sync from a terminal) and communesync-admin (users, units,\n forms, conflicts, reports, online backup) for a communesync server.")

# What the server package holds besides its program.
install(FILES ${PROJECT_SOURCE_DIR}/server/package/communesync-server.service DESTINATION lib/systemd/system
        COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/server/package/config.json DESTINATION /etc/communesync COMPONENT server)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/forms/ DESTINATION share/communesync/forms COMPONENT server
        FILES_MATCHING PATTERN "*.json" PATTERN "README.md")
install(FILES ${PROJECT_SOURCE_DIR}/forms/units-sample.csv DESTINATION share/doc/communesync-server/examples
        COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/grafana-dashboard.json
              ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/communesync-server COMPONENT server)

include(CPack)
