# `mcpd config show` through the real binary (origins, JSON, exit codes, secrets never shown).
add_test(NAME config_show
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/config/config_show.sh ${MCPD_BINARY})
set_tests_properties(config_show PROPERTIES TIMEOUT 120 LABELS integration)
