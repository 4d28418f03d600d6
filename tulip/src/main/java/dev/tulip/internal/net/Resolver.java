package dev.tulip.internal.net;

import dev.tulip.Future;
import dev.tulip.internal.loop.TulipLoop;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Name resolution for the loop (asyncio's {@code getaddrinfo}): literals are parsed on the loop thread at once;
 * names are resolved with {@link InetAddress#getAllByName} on a small shared pool of daemon threads, never on the
 * loop thread, and the result comes back through {@code callSoonThreadsafe}.
 *
 * <p>Literal forms accepted: {@code 127.0.0.1}, {@code ::1}, {@code [::1]} and IPv6 literals with a scope id,
 * numeric ({@code fe80::1%2}) or an interface name ({@code fe80::1%lo}), which becomes that interface's index.
 *
 * <p>Loop thread only (the resolving itself runs elsewhere).
 */
public final class Resolver {
    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Blocking lookups; daemon threads that die when idle (a cached pool), so an idle process holds none. */
    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "tulip-resolver-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private Resolver() {
    }

    /**
     * Resolves {@code host} to all its addresses with {@code port}, in the resolver's order.
     *
     * @param host a name or a literal; null or empty means the wildcard address
     * @return a future of the addresses (never empty); fails with {@link UnknownHostException}
     */
    public static Future<List<InetSocketAddress>> resolve(TulipLoop loop, String host, int port) {
        checkPort(port);
        Future<List<InetSocketAddress>> f = loop.createFuture();
        if (host == null || host.isEmpty()) {
            f.setResult(List.of(new InetSocketAddress(port)));
            return f;
        }
        InetAddress literal;
        try {
            literal = parseLiteral(host);
        } catch (UnknownHostException e) {
            f.setException(e);
            return f;
        }
        if (literal != null) {
            f.setResult(List.of(new InetSocketAddress(literal, port)));
            return f;
        }
        POOL.execute(() -> {
            List<InetSocketAddress> out = null;
            Throwable err = null;
            try {
                InetAddress[] all = InetAddress.getAllByName(host);
                out = new ArrayList<>(all.length);
                for (InetAddress a : all) {
                    out.add(new InetSocketAddress(a, port));
                }
                if (out.isEmpty()) {
                    err = new UnknownHostException(host + ": no addresses");
                }
            } catch (Throwable e) {
                err = e;
            }
            List<InetSocketAddress> result = out;
            Throwable failure = err;
            try {
                loop.callSoonThreadsafe(() -> {
                    if (f.isDone()) {
                        return; // cancelled meanwhile
                    }
                    if (failure != null) {
                        f.setException(failure);
                    } else {
                        f.setResult(List.copyOf(result));
                    }
                });
            } catch (IllegalStateException loopClosed) {
                // nobody is left to tell
            }
        });
        return f;
    }

    static void checkPort(int port) {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("port out of range 0..65535: " + port);
        }
    }

    /**
     * Parses an IP literal, or returns null if {@code host} is not one (then it is a name to resolve).
     *
     * @throws UnknownHostException if it is an IPv6 literal with a scope naming no interface
     */
    static InetAddress parseLiteral(String host) throws UnknownHostException {
        String h = host;
        if (h.length() > 1 && h.charAt(0) == '[' && h.charAt(h.length() - 1) == ']') {
            h = h.substring(1, h.length() - 1);
        }
        int pct = h.indexOf('%');
        if (pct < 0) {
            if (!looksNumeric(h)) {
                return null;
            }
            try {
                return InetAddress.ofLiteral(h);
            } catch (IllegalArgumentException notLiteral) {
                return null;
            }
        }
        InetAddress base;
        try {
            base = InetAddress.ofLiteral(h.substring(0, pct));
        } catch (IllegalArgumentException notLiteral) {
            return null;
        }
        if (!(base instanceof Inet6Address)) {
            throw new UnknownHostException(host + ": a scope id is only valid on an IPv6 address");
        }
        String scope = h.substring(pct + 1);
        int index;
        if (!scope.isEmpty() && scope.chars().allMatch(Character::isDigit)) {
            index = Integer.parseInt(scope);
        } else {
            NetworkInterface nif;
            try {
                nif = NetworkInterface.getByName(scope);
            } catch (SocketException e) {
                nif = null;
            }
            if (nif == null) {
                throw new UnknownHostException(host + ": no network interface named '" + scope + "'");
            }
            index = nif.getIndex();
        }
        return Inet6Address.getByAddress(null, base.getAddress(), index);
    }

    private static boolean looksNumeric(String h) {
        // Names may start with digits ("1password.com"), so only ':' or all-digits-and-dots count as literals.
        if (h.indexOf(':') >= 0) {
            return true;
        }
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            if (c != '.' && (c < '0' || c > '9')) {
                return false;
            }
        }
        return !h.isEmpty();
    }

    /**
     * RFC 8305 section 4 order: alternate address families, starting with the family of the first address.
     */
    static List<InetSocketAddress> interleave(List<InetSocketAddress> addrs) {
        if (addrs.size() < 2) {
            return addrs;
        }
        boolean firstV6 = addrs.get(0).getAddress() instanceof Inet6Address;
        ArrayList<InetSocketAddress> a = new ArrayList<>();
        ArrayList<InetSocketAddress> b = new ArrayList<>();
        for (InetSocketAddress s : addrs) {
            boolean v6 = s.getAddress() instanceof Inet6Address;
            (v6 == firstV6 ? a : b).add(s);
        }
        ArrayList<InetSocketAddress> out = new ArrayList<>(addrs.size());
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            if (i < a.size()) {
                out.add(a.get(i));
            }
            if (i < b.size()) {
                out.add(b.get(i));
            }
        }
        return out;
    }

    static boolean isV4(InetSocketAddress a) {
        return a.getAddress() instanceof Inet4Address;
    }

    static String describe(List<?> l) {
        return Arrays.toString(l.toArray());
    }
}
