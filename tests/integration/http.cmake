# The HTTP transport (`mcpd serve --http`): the real binary on a free port, driven by node's
# test runner with the official MCP TypeScript SDK (Streamable HTTP and the legacy HTTP+SSE
# client), raw HTTP for what the SDK never sends, and tokens made by the real CLI against a
# temporary SQLite database (tests/integration/http/*.test.mjs). Then the official MCP
# conformance suite (tests/conformance/run.sh), which installs its own Node into .node/ on
# first use. Every name contains "http": ctest -R http.

foreach(name IN ITEMS streamable auth legacy_sse limits lifecycle systemd rate_limit modern_headers modern_listen routing)
  mcpd_node_test(integration_http_${name} ${CMAKE_CURRENT_SOURCE_DIR}/http/${name}.test.mjs
                 "integration;http")
endforeach()

add_test(NAME conformance_http
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/conformance/run.sh --mcpd ${MCPD_BINARY})
set_tests_properties(conformance_http PROPERTIES
  TIMEOUT 900
  LABELS "conformance;http")
