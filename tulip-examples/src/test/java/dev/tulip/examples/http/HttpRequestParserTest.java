package dev.tulip.examples.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.examples.http.HttpRequestParser.Limits;
import dev.tulip.examples.http.HttpRequestParser.Result;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(10)
class HttpRequestParserTest {

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Parses everything, returning the completed requests; fails the test on a parse failure. */
    private static List<HttpRequest> parseAll(HttpRequestParser p, ByteBuffer in) {
        List<HttpRequest> out = new ArrayList<>();
        while (true) {
            Result r = p.parse(in);
            if (r instanceof Result.Complete c) {
                out.add(c.request());
            } else if (r instanceof Result.Failed f) {
                throw new AssertionError("failed: " + f);
            } else {
                assertFalse(in.hasRemaining(), "NeedMore must consume everything");
                return out;
            }
        }
    }

    private static HttpRequest one(String s) {
        List<HttpRequest> rs = parseAll(new HttpRequestParser(), bytes(s));
        assertEquals(1, rs.size(), "requests in " + s);
        return rs.get(0);
    }

    private static Result.Failed failure(String s) {
        return failure(new HttpRequestParser(), s);
    }

    private static Result.Failed failure(HttpRequestParser p, String s) {
        ByteBuffer in = bytes(s);
        while (true) {
            Result r = p.parse(in);
            if (r instanceof Result.Failed f) {
                return f;
            }
            if (r instanceof Result.NeedMore) {
                throw new AssertionError("expected a failure for " + s.replace("\r\n", "\\r\\n"));
            }
        }
    }

    @Test
    void simpleGet() {
        HttpRequest r = one("GET /index.html?q=1 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n");
        assertEquals("GET", r.method());
        assertEquals("/index.html?q=1", r.target());
        assertEquals(1, r.minorVersion());
        assertEquals("example", r.header("host"));
        assertEquals("*/*", r.header("ACCEPT"));
        assertEquals(0, r.body().length);
        assertTrue(r.keepAlive());
    }

    @Test
    void headerValuesAreTrimmedAndKeepInnerSpaces() {
        HttpRequest r = one("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a  b \t\r\nX-Empty:\r\n\r\n");
        assertEquals("h", r.header("host"));
        assertEquals("a  b", r.header("x-a"));
        assertEquals("", r.header("x-empty"));
    }

    @Test
    void everySplitPointGivesTheSameRequest() {
        String s = "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
        byte[] all = s.getBytes(StandardCharsets.ISO_8859_1);
        for (int cut = 0; cut <= all.length; cut++) {
            HttpRequestParser p = new HttpRequestParser();
            List<HttpRequest> rs = new ArrayList<>(parseAll(p, ByteBuffer.wrap(all, 0, cut)));
            rs.addAll(parseAll(p, ByteBuffer.wrap(all, cut, all.length - cut)));
            assertEquals(1, rs.size(), "cut at " + cut);
            assertEquals("hello world", new String(rs.get(0).body(), StandardCharsets.US_ASCII));
            assertEquals("t", rs.get(0).trailers().get(0).value());
        }
    }

    @Test
    void oneByteAtATime() {
        byte[] all = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc".getBytes(StandardCharsets.US_ASCII);
        HttpRequestParser p = new HttpRequestParser();
        List<HttpRequest> rs = new ArrayList<>();
        for (byte b : all) {
            rs.addAll(parseAll(p, ByteBuffer.wrap(new byte[] {b})));
        }
        assertEquals(1, rs.size());
        assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), rs.get(0).body());
    }

    @Test
    void pipelinedRequestsComeOutInOrderAndLeaveTheRestInTheBuffer() {
        ByteBuffer in = bytes("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                + "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
                + "GET /3 HTTP/1.1\r\nHost: h\r\n\r\nGET /4 HT");
        HttpRequestParser p = new HttpRequestParser();
        Result r1 = p.parse(in);
        assertEquals("/1", assertInstanceOf(Result.Complete.class, r1).request().target());
        assertTrue(in.hasRemaining());
        List<HttpRequest> rest = parseAll(p, in);
        assertEquals(List.of("/2", "/3"), rest.stream().map(HttpRequest::target).toList());
        assertFalse(p.isIdle(), "a partial fourth request is pending");
        assertTrue(p.inHeaderSection());
    }

    @Test
    void contentLengthBody() {
        HttpRequest r = one("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n12345");
        assertEquals("12345", new String(r.body(), StandardCharsets.US_ASCII));
        HttpRequest same = one("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n12345");
        assertEquals(5, same.body().length);
    }

    @Test
    void chunkedBodyWithUppercaseHexAndExtensions() {
        HttpRequest r = one("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
                + "A ; name=value\r\n0123456789\r\n1\r\n!\r\n0\r\n\r\n");
        assertEquals("0123456789!", new String(r.body(), StandardCharsets.US_ASCII));
        assertTrue(r.trailers().isEmpty());
    }

    @Test
    void bareLfLineEndsAreAccepted() {
        HttpRequest r = one("GET / HTTP/1.1\nHost: h\n\n");
        assertEquals("h", r.header("Host"));
    }

    @Test
    void leadingEmptyLinesAreSkippedUpToALimit() {
        assertEquals("/", one("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").target());
        assertEquals(400, failure("\r\n".repeat(20) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n").status());
    }

    @Test
    void keepAliveRules() {
        assertFalse(one("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keepAlive());
        assertFalse(one("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Close\r\n\r\n").keepAlive());
        assertFalse(one("GET / HTTP/1.0\r\n\r\n").keepAlive());
        assertTrue(one("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepAlive());
        assertEquals(0, one("GET / HTTP/1.0\r\n\r\n").minorVersion());
        assertEquals(1, one("GET / HTTP/1.9\r\nHost: h\r\n\r\n").minorVersion(), "1.x is treated as 1.1");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "400|GET / HTTP/1.1\\r\\n\\r\\n",
            "400|GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n",
            "400|GET / HTTP/1.1\\rHost: a\\r\\n\\r\\n",
            "400|GET  / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
            "400|GET / HTTP/1.1 x\\r\\nHost: h\\r\\n\\r\\n",
            "400|GET /\\r\\nHost: h\\r\\n\\r\\n",
            "400|G(T / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n",
            "400|GET / http/1.1\\r\\nHost: h\\r\\n\\r\\n",
            "400|GET / HTTP/1.10\\r\\nHost: h\\r\\n\\r\\n",
            "505|GET / HTTP/2.0\\r\\nHost: h\\r\\n\\r\\n",
            "400|GET / HTTP/1.1\\r\\nHost : h\\r\\n\\r\\n",
            "400|GET / HTTP/1.1\\r\\nHost: h\\r\\nX: a\\r\\n b\\r\\n\\r\\n",
            "400|GET / HTTP/1.1\\r\\nHost: h\\r\\nNoColon\\r\\n\\r\\n",
            "400|GET / HTTP/1.1\\r\\nHost: h\\r\\n: empty\\r\\n\\r\\n",
            "400|GET / HTTP/1.1\\r\\nHost: h\\r\\nX: a\\u0001b\\r\\n\\r\\n",
            "400|POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: -1\\r\\n\\r\\n",
            "400|POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 1x\\r\\n\\r\\n",
            "400|POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 1\\r\\nContent-Length: 2\\r\\n\\r\\n",
            "400|POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 99999999999999999999\\r\\n\\r\\n",
            "400|POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 3\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n",
            "400|POST / HTTP/1.0\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n",
            "400|POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked, chunked\\r\\n\\r\\n",
            "501|POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n",
            "400|POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\n",
            "400|POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n;x\\r\\n",
            "400|POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1\\r\\nab\\r\\n",
            "413|POST / HTTP/1.1\\r\\nHost: h\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nffffffffffffffff\\r\\n",
            "413|POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 2000000\\r\\n\\r\\n",
    })
    void malformedRequestsFailWithTheRightStatus(int status, String escaped) {
        String s = escaped.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0001", "\u0001");
        assertEquals(status, failure(s).status(), s);
    }

    @Test
    void limitsOnRequestLineHeaderSectionAndFieldCount() {
        Limits small = new Limits(64, 128, 4, 16);
        assertEquals(414, failure(new HttpRequestParser(small), "GET /" + "a".repeat(100) + " HTTP/1.1\r\n").status());
        assertEquals(431, failure(new HttpRequestParser(small),
                "GET / HTTP/1.1\r\nHost: h\r\nX: " + "v".repeat(200) + "\r\n\r\n").status());
        assertEquals(431, failure(new HttpRequestParser(small),
                "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n").status());
        assertEquals(413, failure(new HttpRequestParser(small),
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n").status());
        assertEquals(413, failure(new HttpRequestParser(small),
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + "x".repeat(16)
                        + "\r\n1\r\n").status());
        assertEquals(431, failure(new HttpRequestParser(small),
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + "t".repeat(200)).status());
    }

    @Test
    void failureIsStickyAndConsumesNothingMore() {
        HttpRequestParser p = new HttpRequestParser();
        Result.Failed f = failure(p, "BAD\r\n");
        ByteBuffer more = bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(f, p.parse(more));
        assertEquals(0, more.position());
    }

    @Test
    void idleAndHeaderSectionStates() {
        HttpRequestParser p = new HttpRequestParser();
        assertTrue(p.isIdle());
        assertFalse(p.inHeaderSection());
        p.parse(bytes("G"));
        assertFalse(p.isIdle());
        assertTrue(p.inHeaderSection());
        p.parse(bytes("ET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"));
        assertFalse(p.inHeaderSection(), "in the body now");
        assertFalse(p.isIdle());
        assertInstanceOf(Result.Complete.class, p.parse(bytes("ab")));
        assertTrue(p.isIdle());
    }

    @Test
    void expectContinueIsOfferedOnceBeforeTheBody() {
        HttpRequestParser p = new HttpRequestParser();
        p.parse(bytes("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
        assertTrue(p.takeExpectContinue());
        assertFalse(p.takeExpectContinue());
        assertInstanceOf(Result.Complete.class, p.parse(bytes("ab")));
        p.parse(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"));
        assertFalse(p.takeExpectContinue());
    }
}
