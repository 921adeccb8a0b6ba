# Packaging and integration (packaging/, man/): the Debian package built with cpack from this
# build tree, inspected, linted and installed into a scratch root; the systemd units
# (systemd-analyze verify/security, socket activation); bash completion; client-config; the
# man pages as a set. Scripts in packaging/; their tools (lintian, mandoc, systemd, jq) come
# from .ci/install-deps. Every name starts with "packaging": ctest -R packaging.
set(packaging_dir ${CMAKE_CURRENT_SOURCE_DIR}/packaging)

add_test(NAME packaging_deb
         COMMAND bash ${packaging_dir}/deb.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
# cpack installs from the whole build tree: run it alone, after everything is built.
set_tests_properties(packaging_deb PROPERTIES TIMEOUT 900 RUN_SERIAL TRUE LABELS packaging)

foreach(name units completion client_config manpages pre_commit)
  add_test(NAME packaging_${name}
           COMMAND bash ${packaging_dir}/${name}.sh ${PROJECT_SOURCE_DIR} ${MCPD_BINARY})
  set_tests_properties(packaging_${name} PROPERTIES TIMEOUT 300 LABELS packaging)
endforeach()
