#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "transports/upstream/url.hpp"

using namespace mcpd::transports::upstream;
using nlohmann::json;

TEST_CASE("parse_base_url reads scheme, host, port and prefix", "[transports][upstream]") {
  std::string error;
  auto a = parse_base_url("https://api.example.com", error);
  REQUIRE(a);
  CHECK(a->tls);
  CHECK(a->host == "api.example.com");
  CHECK(a->port == 443);
  CHECK(a->prefix.empty());
  CHECK(a->host_header() == "api.example.com");

  auto b = parse_base_url("http://127.0.0.1:8000/backend/", error);
  REQUIRE(b);
  CHECK_FALSE(b->tls);
  CHECK(b->port == 8000);
  CHECK(b->prefix == "/backend");
  CHECK(b->host_header() == "127.0.0.1:8000");

  auto c = parse_base_url("http://[::1]:9000", error);
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(c->host_header() == "[::1]:9000");

  auto d = parse_base_url("http://[fd00:ec2::254]", error);  // IPv6 without a port
  REQUIRE(d);
  CHECK(d->host == "fd00:ec2::254");
  CHECK(d->port == 80);
  CHECK(d->host_header() == "[fd00:ec2::254]");
  CHECK_FALSE(parse_base_url("http://[::1]:", error));
  CHECK_FALSE(parse_base_url("http://::1", error));

  for (const char* bad :
       {"ftp://x", "http://", "http://user:pw@host", "http://h:0", "http://h:99999", "http://h:x",
        "http://h/?q=1", "http://h/a#b", "http://[::1", "http://h/a b"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(parse_base_url(bad, error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("percent_encode keeps only unreserved characters", "[transports][upstream]") {
  CHECK(percent_encode("aZ09-._~") == "aZ09-._~");
  CHECK(percent_encode("a b/c?d#e&f=g'h\"i") == "a%20b%2Fc%3Fd%23e%26f%3Dg%27h%22i");
  CHECK(percent_encode("\r\n%") == "%0D%0A%25");
  CHECK(percent_encode("é") == "%C3%A9");
}

TEST_CASE("fill_path encodes each value inside its segment", "[transports][upstream]") {
  const json values{{"id", "../../admin?x=1#y"},
                    {"n", 42},
                    {"name", "O'Brien \"Jr\""},
                    {"empty", ""},
                    {"absent", nullptr},
                    {"dot", ".."},
                    {"one", "."}};
  CHECK(fill_path("/api/v1/clients/{n}/", values).path == "/api/v1/clients/42/");
  const PathResult hostile = fill_path("/api/v1/clients/{id}/", values);
  CHECK(hostile.error.empty());
  CHECK(hostile.path == "/api/v1/clients/..%2F..%2Fadmin%3Fx%3D1%23y/");
  CHECK(fill_path("/people/{name}", values).path == "/people/O%27Brien%20%22Jr%22");
  // Undeclared braces stay literal, encoded as a path must hold them.
  CHECK(fill_path("/x/{other}/ {", values).path == "/x/%7Bother%7D/%20%7B");

  CHECK_FALSE(fill_path("/clients/{empty}/", values).error.empty());
  CHECK_FALSE(fill_path("/clients/{absent}/", values).error.empty());
  CHECK_FALSE(fill_path("/clients/{dot}/", values).error.empty());
  CHECK_FALSE(fill_path("/clients/{one}", values).error.empty());
  CHECK_FALSE(fill_path("/clients/{one}{one}/x", values).error.empty());
  // A dot inside a longer segment is harmless.
  CHECK(fill_path("/files/{dot}.txt", values).error.empty());
  // A fixed query in the template may hold an empty value.
  CHECK(fill_path("/search?q={empty}", values).path == "/search?q=");
}

TEST_CASE("fill_query encodes keys and values and omits absent ones", "[transports][upstream]") {
  const json values{{"q", "a&b=c d"},
                    {"limit", 20},
                    {"in_stock", true},
                    {"missing", nullptr},
                    {"ids", json::array({1, 2})},
                    {"crlf", "x\r\nSet-Cookie: y"}};
  CHECK(fill_query(json{{"q", "{q}"}, {"limit", "{limit}"}}, values) == "limit=20&q=a%26b%3Dc%20d");
  CHECK(fill_query(json{{"in_stock", "{in_stock}"}, {"page", "{missing}"}}, values) ==
        "in_stock=true");
  CHECK(fill_query(json{{"id", "{ids}"}}, values) == "id=1&id=2");
  CHECK(fill_query(json{{"format", "json"}, {"x y", "p-{limit}"}}, values) ==
        "format=json&x%20y=p-20");
  CHECK(fill_query(json{{"c", "{crlf}"}}, values) == "c=x%0D%0ASet-Cookie%3A%20y");
  CHECK(fill_query(json::object(), values).empty());
}

TEST_CASE("fill_body fills typed values and drops absent members", "[transports][upstream]") {
  const json values{{"name", "quote \" and \\ backslash"},
                    {"qty", 3},
                    {"email", nullptr},
                    {"tags", json::array({"a"})},
                    {"active", false}};
  const json templ{{"name", "{name}"},
                   {"quantity", "{qty}"},
                   {"email", "{email}"},
                   {"note", "qty={qty}"},
                   {"nested", {{"tags", "{tags}"}, {"gone", "{email}"}, {"active", "{active}"}}},
                   {"list", json::array({"{qty}", "{email}"})}};
  const json body = fill_body(templ, values);
  CHECK(body == json{{"name", "quote \" and \\ backslash"},
                     {"quantity", 3},
                     {"note", "qty=3"},
                     {"nested", {{"tags", json::array({"a"})}, {"active", false}}},
                     {"list", json::array({3, nullptr})}});
  // The serialized body is valid JSON whatever the argument held.
  CHECK(json::parse(body.dump())["name"] == values["name"]);
}

TEST_CASE("valid_header_value refuses line breaks and controls", "[transports][upstream]") {
  CHECK(valid_header_value("abc-123 \tok"));
  CHECK_FALSE(valid_header_value("a\r\nb"));
  CHECK_FALSE(valid_header_value("a\nb"));
  CHECK_FALSE(valid_header_value(std::string("a\0b", 3)));
}
