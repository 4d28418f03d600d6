package dev.tulip.examples.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tulip.examples.http.HttpRequestParser.Limits;
import dev.tulip.examples.http.HttpRequestParser.Result;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bounded fuzzing of {@link HttpRequestParser} with a fixed seed: generated valid requests (which must round-trip
 * whatever the split points), then mutations of them and random bytes (which must always end in requests, a clean
 * 400-class failure, or a request for more bytes: never an exception, never a step without progress).
 */
@Timeout(60)
class HttpRequestParserFuzzTest {

    private static final long SEED = 0x7011BL;
    private static final long BUDGET_NANOS = 8_000_000_000L; // per test; both tests stop early at their case count
    private static final Set<Integer> STATUSES = Set.of(400, 413, 414, 431, 501, 505);
    private static final Limits LIMITS = new Limits(512, 1024, 16, 4096);
    private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "X-Custom"};
    private static final String TCHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";

    private record Generated(byte[] wire, List<String> targets, List<byte[]> bodies) {
    }

    private static String token(Random r, int max) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(max);
        for (int i = 0; i < n; i++) {
            sb.append(TCHARS.charAt(r.nextInt(TCHARS.length())));
        }
        return sb.toString();
    }

    /** One to three valid pipelined requests with random headers and bodies (Content-Length or chunked). */
    private static Generated generate(Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> targets = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        int count = 1 + r.nextInt(3);
        for (int k = 0; k < count; k++) {
            String target = "/" + token(r, 30).replace("%", "p");
            targets.add(target);
            StringBuilder sb = new StringBuilder();
            String eol = r.nextInt(10) == 0 ? "\n" : "\r\n";
            sb.append(METHODS[r.nextInt(METHODS.length)]).append(' ').append(target).append(" HTTP/1.1").append(eol);
            sb.append("Host: h").append(r.nextInt(100)).append(eol);
            int extra = r.nextInt(6);
            for (int i = 0; i < extra; i++) {
                sb.append("X-").append(token(r, 10)).append(':').append(r.nextBoolean() ? " " : "")
                        .append(token(r, 40)).append(eol);
            }
            byte[] body = new byte[r.nextInt(4) == 0 ? 0 : r.nextInt(300)];
            r.nextBytes(body);
            bodies.add(body);
            boolean chunked = body.length > 0 && r.nextBoolean();
            if (chunked) {
                sb.append("Transfer-Encoding: chunked").append(eol).append(eol);
                out.writeBytes(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
                int off = 0;
                while (off < body.length) {
                    int n = 1 + r.nextInt(body.length - off);
                    out.writeBytes((Integer.toHexString(n) + (r.nextBoolean() ? ";e=1" : "") + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(body, off, n);
                    out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
                    off += n;
                }
                out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            } else {
                if (body.length > 0 || r.nextBoolean()) {
                    sb.append("Content-Length: ").append(body.length).append(eol);
                }
                sb.append(eol);
                out.writeBytes(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
                out.writeBytes(body);
            }
        }
        return new Generated(out.toByteArray(), targets, bodies);
    }

    /**
     * Feeds {@code wire} in random slices and checks the invariants; returns the requests parsed, or null if the
     * parser failed (with an allowed status).
     */
    private static List<HttpRequest> feed(HttpRequestParser p, byte[] wire, Random r) {
        List<HttpRequest> requests = new ArrayList<>();
        int off = 0;
        while (off < wire.length) {
            int n = 1 + r.nextInt(Math.min(wire.length - off, r.nextBoolean() ? 8 : 4096));
            ByteBuffer in = ByteBuffer.wrap(wire, off, n);
            int steps = 0;
            while (true) {
                int before = in.position();
                Result res;
                try {
                    res = p.parse(in);
                } catch (RuntimeException | Error e) {
                    throw new AssertionError("exception escaped the parser", e);
                }
                if (res instanceof Result.Failed f) {
                    assertTrue(STATUSES.contains(f.status()), "unexpected status " + f);
                    return null;
                } else if (res instanceof Result.NeedMore) {
                    assertEquals(0, in.remaining(), "NeedMore left bytes unconsumed");
                    break;
                } else if (res instanceof Result.Complete c) {
                    assertTrue(in.position() > before || c.request() != null, "no progress");
                    requests.add(c.request());
                } else {
                    fail("unknown result " + res);
                }
                if (++steps > n + 1) {
                    fail("more results than bytes: the parser does not make progress");
                }
            }
            off += n;
        }
        return requests;
    }

    @Test
    void validRequestsRoundTripWhateverTheSplits() {
        Random r = new Random(SEED);
        long end = System.nanoTime() + BUDGET_NANOS;
        int cases = 0;
        while (cases < 20_000 && System.nanoTime() < end) {
            Generated g = generate(r);
            List<HttpRequest> got = feed(new HttpRequestParser(LIMITS), g.wire(), r);
            assertTrue(got != null, "a valid request was rejected");
            assertEquals(g.targets(), got.stream().map(HttpRequest::target).toList());
            for (int i = 0; i < got.size(); i++) {
                assertArrayEquals(g.bodies().get(i), got.get(i).body());
            }
            cases++;
        }
        assertTrue(cases > 100, "ran only " + cases + " cases");
    }

    @Test
    void mutatedAndRandomInputNeverEscapes() {
        Random r = new Random(SEED + 1);
        long end = System.nanoTime() + BUDGET_NANOS;
        int cases = 0;
        int failed = 0;
        int parsed = 0;
        while (cases < 50_000 && System.nanoTime() < end) {
            byte[] wire;
            if (r.nextInt(8) == 0) {
                wire = new byte[r.nextInt(2000)];
                r.nextBytes(wire);
            } else {
                wire = mutate(generate(r).wire(), r);
            }
            List<HttpRequest> got = feed(new HttpRequestParser(LIMITS), wire, r);
            if (got == null) {
                failed++;
            } else if (!got.isEmpty()) {
                parsed++;
            }
            cases++;
        }
        assertTrue(cases > 100, "ran only " + cases + " cases");
        // Both outcomes must be common, or the mutations are not exercising the parser.
        assertTrue(failed > cases / 20 && parsed > cases / 20, "failed " + failed + ", parsed " + parsed);
    }

    private static final byte[][] INTERESTING = {
            "\r".getBytes(), "\n".getBytes(), "\r\n".getBytes(), " ".getBytes(), ":".getBytes(), "\t".getBytes(),
            {0}, {(byte) 0xff}, "Content-Length: 5\r\n".getBytes(), "Transfer-Encoding: chunked\r\n".getBytes(),
            "ffffffff\r\n".getBytes(), "0\r\n\r\n".getBytes(), "Host: x\r\n".getBytes(), "HTTP/1.0".getBytes(),
    };

    private static byte[] mutate(byte[] in, Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(in);
        byte[] b = out.toByteArray();
        int mutations = 1 + r.nextInt(4);
        for (int m = 0; m < mutations && b.length > 0; m++) {
            int at = r.nextInt(b.length);
            switch (r.nextInt(6)) {
                case 0 -> b[at] = (byte) r.nextInt(256);
                case 1 -> b = java.util.Arrays.copyOf(b, at); // truncate
                case 2 -> { // delete a range
                    int len = Math.min(b.length - at, 1 + r.nextInt(10));
                    byte[] c = new byte[b.length - len];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + len, c, at, b.length - at - len);
                    b = c;
                }
                case 3 -> { // insert something interesting
                    byte[] ins = INTERESTING[r.nextInt(INTERESTING.length)];
                    byte[] c = new byte[b.length + ins.length];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(ins, 0, c, at, ins.length);
                    System.arraycopy(b, at, c, at + ins.length, b.length - at);
                    b = c;
                }
                case 4 -> { // duplicate a range (repeats headers, chunks, requests)
                    int len = Math.min(b.length - at, 1 + r.nextInt(60));
                    byte[] c = new byte[b.length + len];
                    System.arraycopy(b, 0, c, 0, at + len);
                    System.arraycopy(b, at, c, at + len, b.length - at);
                    b = c;
                }
                default -> { // blow up a run (long lines, many headers)
                    int len = Math.min(b.length - at, 1 + r.nextInt(20));
                    ByteArrayOutputStream o = new ByteArrayOutputStream();
                    o.write(b, 0, at);
                    int times = 1 + r.nextInt(200);
                    for (int t = 0; t < times; t++) {
                        o.write(b, at, len);
                    }
                    o.write(b, at, b.length - at);
                    b = o.toByteArray();
                }
            }
        }
        return b;
    }
}
