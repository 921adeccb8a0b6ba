# The shipped nginx site (packaging/nginx/mcpd.conf) exercised by a real nginx in front of the
# real mcpd, with the official MCP TypeScript SDK as the client (nginx/nginx.test.mjs). nginx
# comes from .ci/install-deps (Debian package nginx); without it the test fails, it is never
# skipped.
find_program(NGINX_EXECUTABLE nginx PATHS /usr/sbin /usr/local/sbin)
if(NOT NGINX_EXECUTABLE)
  set(NGINX_EXECUTABLE nginx)
endif()
mcpd_node_test(integration_nginx ${CMAKE_CURRENT_SOURCE_DIR}/nginx/nginx.test.mjs
               "integration;nginx;packaging" "NGINX=${NGINX_EXECUTABLE}")
