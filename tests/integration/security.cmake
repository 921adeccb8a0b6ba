# Security review (ARCHITECTURE.md "Security model", mcpd-descriptors(5)): the real binary
# against what a user controls — upstream addresses (SSRF guard), exec command/cwd/env path
# tricks, flag-like and shell-like argument values, resource URIs with .. and friends, and
# secrets in logs, answers, /metrics and `mcpd config show`. Every name contains "security".
foreach(name IN ITEMS ssrf descriptor_paths exec_args resource_uris secrets)
  mcpd_node_test(integration_security_${name}
                 ${CMAKE_CURRENT_SOURCE_DIR}/security/${name}.test.mjs "integration;security")
endforeach()
