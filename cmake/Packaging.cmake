# Installation layout and the Debian package (CPack DEB): `cpack -G DEB` in any build
# directory (a Release one for shipping). The package is always laid out under /usr
# (CPACK_PACKAGING_INSTALL_PREFIX); CMAKE_INSTALL_PREFIX only matters for `cmake --install`.
# Configuration files go to /etc whatever the prefix (MCPD_SYSCONFDIR), where the systemd unit
# expects them.
#
# Package contents: /usr/bin/mcpd; the PostgreSQL module, <libdir>/mcpd/mcpd-postgres.so
# (storage/CMakeLists.txt; dpkg-shlibdeps reads it too, so Depends names libpqxx); man pages
# (gzip -9n, reproducible); the systemd units;
# /etc/mcpd/mcpd.json and /etc/default/mcpd (conffiles); /etc/mcpd/tools.d/; bash completion;
# the descriptor JSON Schema; examples and the nginx sites (one mcpd, replicas) under
# /usr/share/doc/mcpd; Debian copyright and changelog; maintainer scripts that create the
# `mcpd` system user.

set(MCPD_SYSCONFDIR "/etc" CACHE PATH "Where mcpd's configuration files are installed")
set(MCPD_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "systemd system unit directory, relative to the prefix")

set(mcpd_pkg_dir ${PROJECT_SOURCE_DIR}/packaging)
set(mcpd_pkg_build ${PROJECT_BINARY_DIR}/packaging)
set(mcpd_doc_dir share/doc/mcpd)

# Compressed files are made at build time (gzip -n: no name or time stamp, so rebuilding gives
# the same bytes).
find_program(MCPD_GZIP gzip REQUIRED)
file(GLOB mcpd_man_pages CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.[1-8])
set(mcpd_gzipped)
foreach(page IN LISTS mcpd_man_pages)
  get_filename_component(name ${page} NAME)
  string(REGEX REPLACE ".*\\.([1-8])$" "\\1" section ${name})
  set(out ${mcpd_pkg_build}/man/man${section}/${name}.gz)
  add_custom_command(OUTPUT ${out}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${mcpd_pkg_build}/man/man${section}
                     COMMAND ${MCPD_GZIP} -9 -n -c ${page} > ${out}
                     DEPENDS ${page} VERBATIM)
  list(APPEND mcpd_gzipped ${out})
  install(FILES ${out} DESTINATION share/man/man${section})
endforeach()
set(mcpd_changelog_gz ${mcpd_pkg_build}/changelog.gz)
add_custom_command(OUTPUT ${mcpd_changelog_gz}
                   COMMAND ${MCPD_GZIP} -9 -n -c ${mcpd_pkg_dir}/debian/changelog > ${mcpd_changelog_gz}
                   DEPENDS ${mcpd_pkg_dir}/debian/changelog VERBATIM)
add_custom_target(mcpd_package_files ALL DEPENDS ${mcpd_gzipped} ${mcpd_changelog_gz})

set(mcpd_read PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${mcpd_pkg_dir}/systemd/mcpd.service ${mcpd_pkg_dir}/systemd/mcpd.socket
        DESTINATION ${MCPD_SYSTEMD_UNITDIR} ${mcpd_read})
install(FILES ${mcpd_pkg_dir}/etc/mcpd.json DESTINATION ${MCPD_SYSCONFDIR}/mcpd ${mcpd_read})
install(DIRECTORY DESTINATION ${MCPD_SYSCONFDIR}/mcpd/tools.d)
install(FILES ${mcpd_pkg_dir}/etc/default.mcpd DESTINATION ${MCPD_SYSCONFDIR}/default
        RENAME mcpd PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${mcpd_pkg_dir}/completion/mcpd.bash
        DESTINATION share/bash-completion/completions RENAME mcpd ${mcpd_read})
install(FILES ${mcpd_pkg_dir}/schema/mcpd-descriptors.schema.json DESTINATION share/mcpd
        ${mcpd_read})
install(FILES ${mcpd_pkg_dir}/debian/copyright ${mcpd_changelog_gz}
        DESTINATION ${mcpd_doc_dir} ${mcpd_read})
# /etc/default/mcpd is 0640 on purpose (it is where secrets go).
install(FILES ${mcpd_pkg_dir}/debian/lintian-overrides DESTINATION share/lintian/overrides
        RENAME mcpd ${mcpd_read})
install(FILES ${mcpd_pkg_dir}/nginx/mcpd.conf ${mcpd_pkg_dir}/nginx/mcpd-replicas.conf
              DESTINATION ${mcpd_doc_dir}/examples/nginx
        ${mcpd_read})
install(FILES ${PROJECT_SOURCE_DIR}/examples/claude_desktop_config.json
              ${PROJECT_SOURCE_DIR}/examples/session.jsonl
        DESTINATION ${mcpd_doc_dir}/examples ${mcpd_read})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/tools DESTINATION ${mcpd_doc_dir}/examples
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                              WORLD_READ WORLD_EXECUTE
        PATTERN "*.sh" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                   WORLD_READ WORLD_EXECUTE)

# --- CPack: one Debian package ----------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mcpd)
set(CPACK_PACKAGE_VENDOR "The mcpd authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "mcpd maintainers <maintainers@mcpd.invalid>" CACHE STRING
    "Maintainer field of the Debian package")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://modelcontextprotocol.io/")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Model Context Protocol server for descriptor-defined tools")
set(CPACK_PACKAGE_DESCRIPTION
    "mcpd serves Model Context Protocol (MCP) tools, resources and prompts\n\
declared in JSON descriptor files: programs run per call, upstream REST\n\
APIs and static answers. It speaks stdio for desktop clients, and\n\
Streamable HTTP plus legacy SSE as a hardened systemd service, with bearer\n\
tokens, JWT, rate limiting, health probes, Prometheus metrics and JSON\n\
logs. It also lints descriptor files for pre-commit hooks (check-tools).")
# Shared-library dependencies come from dpkg-shlibdeps; the maintainer scripts need adduser.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx | httpd, postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${mcpd_pkg_dir}/debian/postinst ${mcpd_pkg_dir}/debian/prerm ${mcpd_pkg_dir}/debian/postrm
    ${mcpd_pkg_dir}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
