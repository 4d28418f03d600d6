package dev.tulip.examples.http;

import java.util.List;
import java.util.Locale;

/**
 * One parsed HTTP/1.x request: what {@link HttpRequestParser} produces.
 *
 * @param method    the method token, as sent (case-sensitive, as RFC 9110 says)
 * @param target    the request target, as sent (origin form {@code /path?query}, absolute form, {@code *} ...)
 * @param minorVersion 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x, which are treated as 1.1)
 * @param headers   the header fields in the order received (names as sent; look them up with {@link #header})
 * @param body      the body bytes (decoded from chunked framing), empty when there was none
 * @param trailers  trailer fields of a chunked body, empty otherwise
 * @param keepAlive whether the connection stays open after the response (HTTP/1.1 unless "Connection: close";
 *                  HTTP/1.0 only with "Connection: keep-alive")
 */
public record HttpRequest(String method, String target, int minorVersion, List<Header> headers, byte[] body,
                          List<Header> trailers, boolean keepAlive) {

    /**
     * One header (or trailer) field.
     *
     * @param name  the field name as sent
     * @param value the field value without surrounding whitespace (ISO-8859-1 decoded)
     */
    public record Header(String name, String value) {
    }

    /**
     * The value of the first header field with this name (case-insensitive), or null.
     *
     * @param name the field name
     * @return the value or null
     */
    public String header(String name) {
        for (Header h : headers) {
            if (h.name().equalsIgnoreCase(name)) {
                return h.value();
            }
        }
        return null;
    }

    /**
     * The protocol version as written on the wire.
     *
     * @return "HTTP/1.0" or "HTTP/1.1"
     */
    public String version() {
        return minorVersion == 0 ? "HTTP/1.0" : "HTTP/1.1";
    }

    @Override
    public String toString() {
        return method + " " + target + " " + version() + " headers=" + headers.size() + " body=" + body.length
                + (keepAlive ? "" : " close");
    }

    static boolean hasToken(String list, String token) {
        for (String part : list.split(",")) {
            if (part.strip().toLowerCase(Locale.ROOT).equals(token)) {
                return true;
            }
        }
        return false;
    }
}
