# The HTTP transport (`mcpd serve --http`): the real binary on a free port, driven by node's
# test runner with the official MCP TypeScript SDK (Streamable HTTP and the legacy HTTP+SSE
# client), raw HTTP for what the SDK never sends, and tokens made by the real CLI against a
# temporary SQLite database (tests/integration/http/*.test.mjs). Then the official MCP
# conformance suite (tests/conformance/run.sh), which installs its own Node into .node/ on
# first use. Every name contains "http": ctest -R http.

foreach(name IN ITEMS streamable auth legacy_sse limits lifecycle systemd rate_limit modern_headers modern_listen routing
                  edge io_threads)
  mcpd_node_test(integration_http_${name} ${CMAKE_CURRENT_SOURCE_DIR}/http/${name}.test.mjs
                 "integration;http")
endforeach()

# Protocol revision 2026-07-28 with the official 2.x client, beside the 1.32 client on the same
# server (modern/http.test.mjs).
mcpd_node_test(integration_http_modern ${CMAKE_CURRENT_SOURCE_DIR}/modern/http.test.mjs
               "integration;http;modern")

add_test(NAME conformance_http
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/conformance/run.sh --mcpd ${MCPD_BINARY})
set_tests_properties(conformance_http PROPERTIES
  TIMEOUT 900
  LABELS "conformance;http")

# The 0.2.0-alpha.12 suite, once per protocol revision it defines requirements for: the
# stateless 2026-07-28 wire and the 2025-11-25 wire (initialize and sessions), each against
# its own `mcpd serve --http` at default settings.
foreach(revision IN ITEMS 2026-07-28 2025-11-25)
  add_test(NAME conformance_http_${revision}
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/conformance/run.sh --mcpd ${MCPD_BINARY}
                   --conformance 0.2.0-alpha.12 --requirements ${revision})
  set_tests_properties(conformance_http_${revision} PROPERTIES
    TIMEOUT 900
    LABELS "conformance;http")
endforeach()
