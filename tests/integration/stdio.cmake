# Integration tests of `mcpd serve --stdio`: the real binary driven by the official MCP
# TypeScript SDK (Client + StdioClientTransport) and by raw child processes, with node's
# built-in test runner. One CTest test per file; every behaviour is its own node test inside.

foreach(name IN ITEMS
        stdio_tools stdio_calls stdio_client_requests stdio_content stdio_raw stdio_token)
  mcpd_node_test(integration_${name} ${CMAKE_CURRENT_SOURCE_DIR}/${name}.test.mjs
                 "integration;stdio")
endforeach()

# Protocol revision 2026-07-28 with the official 2.x client (modern/stdio.test.mjs).
mcpd_node_test(integration_modern_stdio ${CMAKE_CURRENT_SOURCE_DIR}/modern/stdio.test.mjs
               "integration;stdio;modern")
