package dev.tulip.examples.http;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.TimerHandle;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.Transport;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Objects;

/**
 * A small, correct HTTP/1.1 server on Tulip's transport/protocol API: the "Hello, World!" server of the benchmark
 * and an example of a real protocol on the loop.
 *
 * <p>Routes: {@code GET|HEAD /} answers {@code Hello, World!} with the same headers as the C reference server
 * (Server, Date refreshed once per second, Content-Type, Content-Length); {@code POST|PUT /echo} answers the request
 * body; anything else is 404 (or 405 for another method on {@code /}).
 *
 * <p>Behaviour: persistent connections (HTTP/1.1 by default, HTTP/1.0 with {@code Connection: keep-alive});
 * pipelining (responses go out in request order: each read's requests are answered in order and sent with one
 * write); Content-Length and chunked request bodies; {@code 100 Continue} for {@code Expect: 100-continue}; a
 * malformed request gets its 4xx/5xx status from {@link HttpRequestParser} and the connection is closed after the
 * response; header-size limits (431); an idle timeout between requests (the connection is closed quietly) and a
 * header timeout from the first byte of a request to the end of its header section (slow-header or "slowloris"
 * clients get 408 and are closed), both on loop timers; when a client does not read its responses, reading from it
 * pauses until the write buffer drains.
 *
 * <pre>
 *   ./tulipw run http.HttpServer [--host 127.0.0.1] [--port 8080] [--idle-timeout SECONDS] [--header-timeout SECONDS]
 * </pre>
 *
 * <p>Loop thread only (one server per loop; all its connections run on that loop).
 */
public final class HttpServer {

    /**
     * Server options.
     *
     * @param idleTimeout   how long a connection may stay open with no request in progress
     * @param headerTimeout how long a request's line and header section may take from its first byte
     * @param limits        the parser's size limits
     */
    public record Options(Duration idleTimeout, Duration headerTimeout, HttpRequestParser.Limits limits) {

        /**
         * Checks the options.
         *
         * @throws IllegalArgumentException if a timeout is not positive
         */
        public Options {
            Objects.requireNonNull(limits, "limits");
            if (idleTimeout.isNegative() || idleTimeout.isZero() || headerTimeout.isNegative()
                    || headerTimeout.isZero()) {
                throw new IllegalArgumentException("timeouts must be positive");
            }
        }

        /**
         * The defaults: 30 s idle timeout, 10 s header timeout, the parser's default limits.
         *
         * @return the default options
         */
        public static Options defaults() {
            return new Options(Duration.ofSeconds(30), Duration.ofSeconds(10), HttpRequestParser.Limits.defaults());
        }
    }

    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);
    private static final byte[] HELLO = "Hello, World!".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final EventLoop loop;
    private final Options options;
    private final long idleNanos;
    private final long headerNanos;
    /** The response batch of the read being handled; reused (one loop thread, written out before reuse). */
    private ByteBuffer out = ByteBuffer.allocateDirect(64 * 1024);
    private String date;
    /** The whole keep-alive hello response, rebuilt with the Date header once per second. */
    private byte[] hello;
    private TimerHandle dateTimer;

    private HttpServer(EventLoop loop, Options options) {
        this.loop = loop;
        this.options = options;
        this.idleNanos = options.idleTimeout().toNanos();
        this.headerNanos = options.headerTimeout().toNanos();
        refreshDate();
    }

    /**
     * Starts an HTTP server on {@code loop}. Loop thread only.
     *
     * @param loop    the loop
     * @param host    the address to bind (use 127.0.0.1 for local tests)
     * @param port    the port; 0 picks a free one
     * @param options timeouts and limits
     * @return a future of the listening server
     */
    public static Future<Server> start(EventLoop loop, String host, int port, Options options) {
        HttpServer s = new HttpServer(loop, options);
        Future<Server> f = loop.createServer(s::newConnection, host, port,
                ServerOptions.defaults().withBacklog(1024));
        f.addDoneCallback(d -> {
            if (d.isCancelled() || d.exception() != null) {
                s.dateTimer.cancel();
            }
        });
        return f;
    }

    private Protocol newConnection() {
        return new Connection();
    }

    private void refreshDate() {
        date = HTTP_DATE.format(ZonedDateTime.now(ZoneOffset.UTC));
        hello = ("HTTP/1.1 200 OK\r\nServer: Tulip\r\nDate: " + date
                + "\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!")
                .getBytes(StandardCharsets.US_ASCII);
        dateTimer = loop.callLater(Duration.ofSeconds(1), this::refreshDate);
    }

    private void put(byte[] b) {
        if (out.remaining() < b.length) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(out.capacity() * 2, out.position() + b.length));
            out.flip();
            bigger.put(out);
            out = bigger;
        }
        out.put(b);
    }

    /** Appends the response to {@code req} to the batch; returns whether the connection stays open. */
    private boolean respond(HttpRequest req) {
        boolean keepAlive = req.keepAlive();
        String target = req.target();
        String method = req.method();
        boolean head = method.equals("HEAD");
        if (target.equals("/") || target.startsWith("/?")) {
            if (method.equals("GET") || head) {
                if (keepAlive && req.minorVersion() == 1 && !head) {
                    put(hello); // the fast path: the prebuilt response
                } else {
                    put(response(200, "OK", "text/plain", HELLO, req, keepAlive, head, null));
                }
            } else {
                put(response(405, "Method Not Allowed", "text/plain", bytes("method not allowed\n"), req,
                        keepAlive, false, "Allow: GET, HEAD\r\n"));
            }
        } else if (target.equals("/echo") && (method.equals("POST") || method.equals("PUT"))) {
            put(response(200, "OK", "application/octet-stream", req.body(), req, keepAlive, false, null));
        } else {
            put(response(404, "Not Found", "text/plain", bytes("not found\n"), req, keepAlive, head, null));
        }
        return keepAlive;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private byte[] response(int status, String reason, String type, byte[] body, HttpRequest req, boolean keepAlive,
                            boolean head, String extra) {
        StringBuilder sb = new StringBuilder(160);
        sb.append("HTTP/1.1 ").append(status).append(' ').append(reason).append("\r\nServer: Tulip\r\nDate: ")
                .append(date).append("\r\nContent-Type: ").append(type).append("\r\nContent-Length: ")
                .append(body.length).append("\r\n");
        if (!keepAlive) {
            sb.append("Connection: close\r\n");
        } else if (req != null && req.minorVersion() == 0) {
            sb.append("Connection: keep-alive\r\n");
        }
        if (extra != null) {
            sb.append(extra);
        }
        sb.append("\r\n");
        byte[] h = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (head || body.length == 0) {
            return h;
        }
        byte[] all = java.util.Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    private static String reasonOf(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 408 -> "Request Timeout";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 431 -> "Request Header Fields Too Large";
            case 501 -> "Not Implemented";
            case 505 -> "HTTP Version Not Supported";
            default -> "Error";
        };
    }

    private byte[] errorResponse(int status, String reason) {
        return response(status, reasonOf(status), "text/plain", bytes(reason.replaceAll("[^\\x20-\\x7e]", "?") + "\n"),
                null, false, false, null);
    }

    /** One connection: parser, timers, and the request/response loop. Loop thread only. */
    private final class Connection implements Protocol {
        private final HttpRequestParser parser = new HttpRequestParser(options.limits());
        private Transport transport;
        private boolean done;
        private long lastActivity;
        /** Loop time of the first byte of the request whose header section is being read, or -1. */
        private long headerStart = -1;
        private TimerHandle timer;
        private long timerWhen;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            lastActivity = loop.time();
            arm(lastActivity + idleNanos);
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            if (done) {
                return; // closing after an error or "Connection: close": the rest is ignored
            }
            long now = loop.time();
            lastActivity = now;
            out.clear();
            while (true) {
                HttpRequestParser.Result r = parser.parse(data);
                if (r instanceof HttpRequestParser.Result.Complete c) {
                    if (!respond(c.request())) {
                        finish();
                        return;
                    }
                } else if (r instanceof HttpRequestParser.Result.Failed f) {
                    put(errorResponse(f.status(), f.reason()));
                    finish();
                    return;
                } else {
                    break;
                }
            }
            if (parser.takeExpectContinue()) {
                put(CONTINUE);
            }
            flush();
            if (parser.inHeaderSection()) {
                if (headerStart < 0) {
                    headerStart = now;
                    if (headerStart + headerNanos < timerWhen) {
                        arm(headerStart + headerNanos);
                    }
                }
            } else {
                headerStart = -1;
            }
        }

        private void flush() {
            // isClosing: a write error may have started the close before connectionLost ran; drop the batch then.
            if (out.position() > 0 && !transport.isClosing()) {
                out.flip();
                transport.write(out);
            }
        }

        /** Sends what is batched, then closes after it is written. */
        private void finish() {
            done = true;
            flush();
            transport.close();
            cancelTimer();
        }

        private void arm(long when) {
            cancelTimer();
            timerWhen = when;
            timer = loop.callAt(when, this::onTimer);
        }

        private void cancelTimer() {
            if (timer != null) {
                timer.cancel();
                timer = null;
            }
            timerWhen = Long.MAX_VALUE;
        }

        /**
         * The one timer of the connection. It is not moved on every request (that would cost a heap operation per
         * request): when it fires early, it checks the real deadlines and re-arms itself for the nearest one.
         */
        private void onTimer() {
            timer = null;
            timerWhen = Long.MAX_VALUE;
            if (done || transport.isClosing()) {
                return;
            }
            long now = loop.time();
            if (headerStart >= 0 && now - headerStart >= headerNanos) {
                out.clear();
                put(errorResponse(408, "request header timeout"));
                finish();
                return;
            }
            if (now - lastActivity >= idleNanos) {
                if (parser.isIdle()) {
                    done = true;
                    transport.close();
                } else {
                    out.clear();
                    put(errorResponse(408, "request timeout"));
                    finish();
                }
                return;
            }
            long next = lastActivity + idleNanos;
            if (headerStart >= 0) {
                next = Math.min(next, headerStart + headerNanos);
            }
            arm(next);
        }

        @Override
        public void pauseWriting() {
            transport.pauseReading(); // the client is not reading its responses: stop reading its requests
        }

        @Override
        public void resumeWriting() {
            if (!done) {
                transport.resumeReading();
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            done = true;
            cancelTimer();
        }
    }

    /**
     * Runs the server in the foreground until killed.
     *
     * @param args see the class documentation
     */
    public static void main(String[] args) {
        String host = "127.0.0.1";
        int port = 8080;
        Options o = Options.defaults();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--host" -> host = args[++i];
                    case "--port" -> port = Integer.parseInt(args[++i]);
                    case "--idle-timeout" -> o = new Options(Duration.ofMillis((long) (Double.parseDouble(args[++i])
                            * 1000)), o.headerTimeout(), o.limits());
                    case "--header-timeout" -> o = new Options(o.idleTimeout(), Duration.ofMillis((long) (
                            Double.parseDouble(args[++i]) * 1000)), o.limits());
                    case "-h", "--help" -> {
                        usage();
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
        } catch (RuntimeException e) {
            System.err.println("HttpServer: " + e.getMessage());
            usage();
            System.exit(2);
        }
        try (EventLoop loop = EventLoop.create()) {
            Server server = loop.runUntilComplete(start(loop, host, port, o));
            System.out.println("listening on " + server.addresses() + " (HTTP/1.1)");
            System.out.flush();
            loop.runForever();
        }
    }

    private static void usage() {
        System.err.println("usage: HttpServer [--host 127.0.0.1] [--port 8080] [--idle-timeout SECONDS] "
                + "[--header-timeout SECONDS]");
        System.err.println("  GET / -> Hello, World!   POST /echo -> the request body");
    }
}
