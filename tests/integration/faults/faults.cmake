# Fault injection (tests/integration/faults): the real mcpd binary while its surroundings fail —
# PostgreSQL stopped and started again under load, SQLite shared with the admin CLI and killed
# with -9 under writes, a full disk (a private tmpfs; skipped where mounting is not permitted),
# upstreams that hang, reset, trickle or speak garbage, exec children that flood, linger or
# ignore SIGTERM. Every name starts with "faults": ctest -R faults.

foreach(name IN ITEMS exec upstream sqlite)
  mcpd_node_test(faults_${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.test.mjs "integration;faults")
endforeach()
# Starts (and stops, and starts again) a PostgreSQL cluster of its own: not the `postgres` fixture.
mcpd_node_test(faults_postgres ${CMAKE_CURRENT_LIST_DIR}/postgres.test.mjs "integration;faults;postgres")

# The full disk needs a private tmpfs (unshare -m, mount): skipped (exit 77) where not permitted.
add_test(NAME faults_disk_full COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/disk_full.sh ${MCPD_BINARY})
set_tests_properties(faults_disk_full PROPERTIES
  SKIP_RETURN_CODE 77
  TIMEOUT 300
  LABELS "integration;faults")
