package dev.tulip.examples.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An incremental HTTP/1.x request parser (RFC 9112): feed it bytes as they arrive, get whole requests out, one at a
 * time, in order. Pure: no sockets, no clock, no threads, so it is tested directly.
 *
 * <p>Call {@link #parse(ByteBuffer)} with the bytes received; it consumes bytes up to the end of at most one request
 * and returns {@link Result.Complete} (the remaining bytes, a pipelined next request perhaps, stay in the buffer:
 * call again), {@link Result.NeedMore} (everything was consumed; call again when more arrives), or
 * {@link Result.Failed} with the status to answer before closing the connection. After a failure the parser stays
 * failed (the byte stream can no longer be framed), and consumes nothing more.
 *
 * <p>What it accepts: request line {@code METHOD SP target SP HTTP/1.x}, CRLF line ends (a bare LF is accepted, a
 * bare CR is an error), header fields {@code name ":" OWS value OWS}, bodies framed by {@code Content-Length} or
 * {@code Transfer-Encoding: chunked} (chunk extensions ignored, trailers kept). Up to 8 empty lines before a request
 * line are skipped (RFC 9112 section 2.2). What it rejects, and with which status:
 * <ul>
 *   <li>400: malformed request line, method or target; a space before a header colon; obsolete line folding;
 *       control characters in a value; a bad or conflicting Content-Length; both Content-Length and
 *       Transfer-Encoding (a request-smuggling vector); chunked on HTTP/1.0; a bad chunk size or chunk end; HTTP/1.1
 *       without exactly one Host.</li>
 *   <li>414: request line longer than {@link Limits#maxRequestLine}.</li>
 *   <li>431: header section (or trailer section) longer than {@link Limits#maxHeaderBytes} or with more than
 *       {@link Limits#maxHeaders} fields.</li>
 *   <li>413: body longer than {@link Limits#maxBody}.</li>
 *   <li>501: a transfer coding other than chunked. 505: an HTTP major version other than 1.</li>
 * </ul>
 *
 * <p>Not thread-safe: one parser per connection, used by the connection's loop thread.
 */
public final class HttpRequestParser {

    /**
     * Size limits.
     *
     * @param maxRequestLine longest request line, in bytes, without its line end
     * @param maxHeaderBytes longest header section (or trailer section), in bytes, line ends included
     * @param maxHeaders     most header fields (or trailer fields)
     * @param maxBody        longest body after chunked decoding
     */
    public record Limits(int maxRequestLine, int maxHeaderBytes, int maxHeaders, int maxBody) {

        /**
         * Checks the limits.
         *
         * @throws IllegalArgumentException if a limit is not positive
         */
        public Limits {
            if (maxRequestLine < 16 || maxHeaderBytes < 16 || maxHeaders < 1 || maxBody < 0) {
                throw new IllegalArgumentException("limits too small: " + maxRequestLine + ", " + maxHeaderBytes
                        + ", " + maxHeaders + ", " + maxBody);
            }
        }

        /**
         * The defaults: 8 KiB request line, 16 KiB header section, 100 fields, 1 MiB body.
         *
         * @return the default limits
         */
        public static Limits defaults() {
            return new Limits(8192, 16384, 100, 1 << 20);
        }
    }

    /** What one call to {@link #parse} produced. */
    public sealed interface Result {

        /** All input was consumed and no request is complete yet. */
        record NeedMore() implements Result {
        }

        /**
         * A whole request; bytes after it are still in the buffer.
         *
         * @param request the request
         */
        record Complete(HttpRequest request) implements Result {
        }

        /**
         * The input is not a valid request: answer {@code status} and close the connection.
         *
         * @param status the HTTP status to answer (400, 413, 414, 431, 501, 505)
         * @param reason what was wrong, for logs and the response body
         */
        record Failed(int status, String reason) implements Result {
        }
    }

    private static final Result.NeedMore NEED_MORE = new Result.NeedMore();
    private static final int MAX_LEADING_EMPTY_LINES = 8;
    private static final int MAX_CHUNK_LINE = 1024;
    private static final byte CR = '\r';
    private static final byte LF = '\n';

    private enum State { REQUEST_LINE, HEADERS, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, FAILED }

    private final Limits limits;
    private State state = State.REQUEST_LINE;
    private Result.Failed failure;

    // The line being assembled (request line, header, chunk size, trailer), without its line end.
    private byte[] line = new byte[256];
    private int lineLength;
    private boolean sawCr;
    private int lineLimit;

    // The request being assembled.
    private int leadingEmptyLines;
    private int sectionBytes;
    private String method;
    private String target;
    private int minorVersion;
    private List<HttpRequest.Header> headers;
    private List<HttpRequest.Header> trailers;
    private byte[] body;
    private int bodyLength;
    private long remaining;
    private boolean expectContinue;
    private boolean started;

    /** A parser with the {@linkplain Limits#defaults() default limits}. */
    public HttpRequestParser() {
        this(Limits.defaults());
    }

    /**
     * A parser with the given limits.
     *
     * @param limits the size limits
     */
    public HttpRequestParser(Limits limits) {
        this.limits = java.util.Objects.requireNonNull(limits, "limits");
        reset();
    }

    /**
     * Consumes bytes from {@code in} (from its position) up to the end of one request at most.
     *
     * @param in the received bytes; its position advances past what was consumed
     * @return a complete request, a request for more bytes, or a failure (sticky)
     */
    public Result parse(ByteBuffer in) {
        while (true) {
            switch (state) {
                case FAILED:
                    return failure;
                case BODY:
                case CHUNK_DATA: {
                    if (!in.hasRemaining()) {
                        return NEED_MORE;
                    }
                    int n = (int) Math.min(remaining, in.remaining());
                    in.get(body, bodyLength, n);
                    bodyLength += n;
                    remaining -= n;
                    if (remaining == 0) {
                        if (state == State.BODY) {
                            return complete();
                        }
                        startLine(State.CHUNK_END, MAX_CHUNK_LINE);
                    }
                    break;
                }
                default: {
                    if (!readLine(in)) {
                        if (state == State.FAILED) {
                            return failure;
                        }
                        return NEED_MORE;
                    }
                    Result r = onLine();
                    if (r != null) {
                        return r;
                    }
                }
            }
        }
    }

    /**
     * Whether the parser is between requests: no byte of a next request has been seen. A connection in this state
     * is idle.
     *
     * @return true before the first byte of a request
     */
    public boolean isIdle() {
        return state == State.REQUEST_LINE && !started;
    }

    /**
     * Whether the parser is inside a request's request line or header section (the part a slow-header attack
     * stretches out).
     *
     * @return true from the first byte of a request until its header section ends
     */
    public boolean inHeaderSection() {
        return (state == State.REQUEST_LINE && started) || state == State.HEADERS;
    }

    /**
     * Whether the request being read sent {@code Expect: 100-continue} and its body has not started: the server may
     * answer {@code 100 Continue}. Returns true once per request.
     *
     * @return whether to send an interim 100 response now
     */
    public boolean takeExpectContinue() {
        boolean e = expectContinue && bodyLength == 0 && (state == State.BODY || state == State.CHUNK_SIZE);
        expectContinue = false;
        return e;
    }

    // ---------------------------------------------------------------------------------------------------------

    private void reset() {
        method = null;
        target = null;
        minorVersion = 1;
        headers = new ArrayList<>(8);
        trailers = List.of();
        body = null;
        bodyLength = 0;
        remaining = 0;
        sectionBytes = 0;
        leadingEmptyLines = 0;
        expectContinue = false;
        started = false;
        startLine(State.REQUEST_LINE, limits.maxRequestLine());
    }

    private void startLine(State s, int limit) {
        state = s;
        lineLength = 0;
        sawCr = false;
        lineLimit = limit;
    }

    private Result fail(int status, String reason) {
        failure = new Result.Failed(status, reason);
        state = State.FAILED;
        return failure;
    }

    /** Appends bytes to the current line; true when the line ended (its end consumed), false when input ran out. */
    private boolean readLine(ByteBuffer in) {
        while (in.hasRemaining()) {
            byte b = in.get();
            if (state == State.REQUEST_LINE) {
                started = true;
            }
            if (state == State.HEADERS || state == State.TRAILERS) {
                if (++sectionBytes > limits.maxHeaderBytes()) {
                    fail(431, state == State.HEADERS ? "header section too large" : "trailer section too large");
                    return false;
                }
            }
            if (sawCr) {
                if (b != LF) {
                    fail(400, "CR not followed by LF");
                    return false;
                }
                return true;
            }
            if (b == CR) {
                sawCr = true;
                continue;
            }
            if (b == LF) {
                return true;
            }
            if (lineLength >= lineLimit) {
                switch (state) {
                    case REQUEST_LINE -> fail(414, "request line too long");
                    case HEADERS, TRAILERS -> fail(431, "header field too long");
                    default -> fail(400, "chunk size line too long");
                }
                return false;
            }
            if (lineLength == line.length) {
                line = java.util.Arrays.copyOf(line, Math.min(line.length * 2, Math.max(lineLimit, 16)));
            }
            line[lineLength++] = b;
        }
        return false;
    }

    /** Handles a finished line; returns a result to hand out, or null to go on parsing. */
    private Result onLine() {
        int len = lineLength;
        State s = state;
        switch (s) {
            case REQUEST_LINE:
                if (len == 0) {
                    if (++leadingEmptyLines > MAX_LEADING_EMPTY_LINES) {
                        return fail(400, "too many empty lines before the request line");
                    }
                    startLine(State.REQUEST_LINE, limits.maxRequestLine());
                    started = false;
                    return null;
                }
                Result r = requestLine(len);
                if (r != null) {
                    return r;
                }
                startLine(State.HEADERS, limits.maxHeaderBytes());
                sectionBytes = len + 2;
                return null;
            case HEADERS:
                if (len == 0) {
                    return endOfHeaders();
                }
                r = field(len, headers);
                if (r != null) {
                    return r;
                }
                startLine(State.HEADERS, limits.maxHeaderBytes());
                return null;
            case CHUNK_SIZE:
                return chunkSize(len);
            case CHUNK_END:
                if (len != 0) {
                    return fail(400, "chunk data longer than its size");
                }
                startLine(State.CHUNK_SIZE, MAX_CHUNK_LINE);
                return null;
            case TRAILERS:
                if (len == 0) {
                    return complete();
                }
                if (trailers.isEmpty()) {
                    trailers = new ArrayList<>(4);
                }
                r = field(len, trailers);
                if (r != null) {
                    return r;
                }
                startLine(State.TRAILERS, limits.maxHeaderBytes());
                return null;
            default:
                throw new AssertionError(s);
        }
    }

    private Result requestLine(int len) {
        byte[] l = line;
        int sp1 = -1;
        int sp2 = -1;
        for (int i = 0; i < len; i++) {
            if (l[i] == ' ') {
                if (sp1 < 0) {
                    sp1 = i;
                } else if (sp2 < 0) {
                    sp2 = i;
                } else {
                    return fail(400, "malformed request line");
                }
            }
        }
        if (sp1 <= 0 || sp2 < 0 || sp2 == sp1 + 1 || sp2 == len - 1) {
            return fail(400, "malformed request line");
        }
        for (int i = 0; i < sp1; i++) {
            if (!isTchar(l[i])) {
                return fail(400, "invalid method");
            }
        }
        for (int i = sp1 + 1; i < sp2; i++) {
            int c = l[i] & 0xff;
            if (c <= 0x20 || c >= 0x7f) {
                return fail(400, "invalid request target");
            }
        }
        // HTTP-version = "HTTP/" DIGIT "." DIGIT
        int v = sp2 + 1;
        if (len - v != 8 || l[v] != 'H' || l[v + 1] != 'T' || l[v + 2] != 'T' || l[v + 3] != 'P' || l[v + 4] != '/'
                || !isDigit(l[v + 5]) || l[v + 6] != '.' || !isDigit(l[v + 7])) {
            return fail(400, "malformed HTTP version");
        }
        if (l[v + 5] != '1') {
            return fail(505, "HTTP version not supported");
        }
        minorVersion = l[v + 7] == '0' ? 0 : 1;
        method = new String(l, 0, sp1, StandardCharsets.US_ASCII);
        target = new String(l, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.US_ASCII);
        return null;
    }

    private Result field(int len, List<HttpRequest.Header> into) {
        byte[] l = line;
        if (l[0] == ' ' || l[0] == '\t') {
            return fail(400, "obsolete line folding");
        }
        if (into.size() >= limits.maxHeaders()) {
            return fail(431, "too many header fields");
        }
        int colon = -1;
        for (int i = 0; i < len; i++) {
            if (l[i] == ':') {
                colon = i;
                break;
            }
            if (!isTchar(l[i])) {
                return fail(400, "invalid header field name");
            }
        }
        if (colon <= 0) {
            return fail(400, "header field without a name and colon");
        }
        int start = colon + 1;
        int end = len;
        while (start < end && (l[start] == ' ' || l[start] == '\t')) {
            start++;
        }
        while (end > start && (l[end - 1] == ' ' || l[end - 1] == '\t')) {
            end--;
        }
        for (int i = start; i < end; i++) {
            int c = l[i] & 0xff;
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return fail(400, "control character in a header value");
            }
        }
        into.add(new HttpRequest.Header(new String(l, 0, colon, StandardCharsets.US_ASCII),
                new String(l, start, end - start, StandardCharsets.ISO_8859_1)));
        return null;
    }

    private Result endOfHeaders() {
        String contentLength = null;
        boolean chunked = false;
        boolean sawTransferEncoding = false;
        int hosts = 0;
        String connection = null;
        for (HttpRequest.Header h : headers) {
            String n = h.name();
            if (n.equalsIgnoreCase("content-length")) {
                for (String part : h.value().split(",", -1)) {
                    String p = part.strip();
                    if (p.isEmpty() || p.length() > 18 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                        return fail(400, "invalid Content-Length");
                    }
                    if (contentLength != null && Long.parseLong(contentLength) != Long.parseLong(p)) {
                        return fail(400, "conflicting Content-Length values");
                    }
                    contentLength = p;
                }
            } else if (n.equalsIgnoreCase("transfer-encoding")) {
                sawTransferEncoding = true;
                for (String part : h.value().split(",", -1)) {
                    String coding = part.strip().toLowerCase(Locale.ROOT);
                    if (coding.isEmpty()) {
                        continue;
                    }
                    if (chunked) {
                        return fail(400, "chunked is not the last transfer coding");
                    }
                    if (!coding.equals("chunked")) {
                        return fail(501, "transfer coding not implemented: " + coding);
                    }
                    chunked = true;
                }
            } else if (n.equalsIgnoreCase("host")) {
                hosts++;
            } else if (n.equalsIgnoreCase("connection")) {
                connection = connection == null ? h.value() : connection + "," + h.value();
            } else if (n.equalsIgnoreCase("expect")) {
                expectContinue = minorVersion == 1 && h.value().equalsIgnoreCase("100-continue");
            }
        }
        if (minorVersion == 1 && hosts != 1) {
            return fail(400, hosts == 0 ? "HTTP/1.1 request without Host" : "more than one Host");
        }
        if (minorVersion == 0 && hosts > 1) {
            return fail(400, "more than one Host");
        }
        if (sawTransferEncoding) {
            if (contentLength != null) {
                return fail(400, "both Content-Length and Transfer-Encoding");
            }
            if (minorVersion == 0) {
                return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
            }
            if (!chunked) {
                return fail(400, "Transfer-Encoding without chunked");
            }
        }
        this.connection = connection;
        if (chunked) {
            body = new byte[0];
            startLine(State.CHUNK_SIZE, MAX_CHUNK_LINE);
            return null;
        }
        long length = contentLength == null ? 0 : Long.parseLong(contentLength);
        if (length > limits.maxBody()) {
            return fail(413, "body larger than " + limits.maxBody() + " bytes");
        }
        body = length == 0 ? EMPTY : new byte[(int) length];
        if (length == 0) {
            return complete();
        }
        remaining = length;
        state = State.BODY;
        return null;
    }

    private static final byte[] EMPTY = new byte[0];
    private String connection;

    private Result chunkSize(int len) {
        byte[] l = line;
        int i = 0;
        long size = 0;
        while (i < len && hexValue(l[i]) >= 0) {
            if (i >= 15) {
                return fail(413, "chunk size too large");
            }
            size = size * 16 + hexValue(l[i]);
            i++;
        }
        if (i == 0) {
            return fail(400, "invalid chunk size");
        }
        while (i < len && (l[i] == ' ' || l[i] == '\t')) {
            i++;
        }
        if (i < len && l[i] != ';') {
            return fail(400, "invalid chunk size");
        }
        if (size == 0) {
            startLine(State.TRAILERS, limits.maxHeaderBytes());
            sectionBytes = 0;
            return null;
        }
        if (bodyLength + size > limits.maxBody()) {
            return fail(413, "body larger than " + limits.maxBody() + " bytes");
        }
        if (body.length < bodyLength + size) {
            body = java.util.Arrays.copyOf(body, (int) Math.min(limits.maxBody(),
                    Math.max(bodyLength + size, (long) body.length * 2)));
        }
        remaining = size;
        state = State.CHUNK_DATA;
        return null;
    }

    private Result complete() {
        boolean keepAlive;
        if (connection != null && HttpRequest.hasToken(connection, "close")) {
            keepAlive = false;
        } else if (minorVersion == 0) {
            keepAlive = connection != null && HttpRequest.hasToken(connection, "keep-alive");
        } else {
            keepAlive = true;
        }
        byte[] b = body.length == bodyLength ? body : java.util.Arrays.copyOf(body, bodyLength);
        HttpRequest request = new HttpRequest(method, target, minorVersion, headers, b, trailers, keepAlive);
        connection = null;
        reset();
        return new Result.Complete(request);
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static int hexValue(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    /** tchar of RFC 9110: the characters of a token (method, header name). */
    private static boolean isTchar(byte b) {
        int c = b & 0xff;
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return true;
        }
        return switch (c) {
            case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~' -> true;
            default -> false;
        };
    }
}
