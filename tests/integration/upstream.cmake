# http handlers and upstreams (PRODUCT.md §3): the real mcpd binary (serve --http and --stdio)
# driven by the official MCP TypeScript SDK against a stand-in Django REST API written in Node
# (upstream/django_stub.mjs, started by each test, over HTTP and over TLS with certificates
# made at test time by the openssl CLI). Every name contains "upstream": ctest -R upstream.

foreach(name IN ITEMS calls readiness stdio tls check_tools)
  mcpd_node_test(integration_upstream_${name}
                 ${CMAKE_CURRENT_SOURCE_DIR}/upstream/${name}.test.mjs "integration;upstream")
endforeach()
