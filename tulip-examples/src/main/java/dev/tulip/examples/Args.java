package dev.tulip.examples;

import dev.tulip.transport.Server;
import java.net.InetSocketAddress;

/** Tiny command-line helpers for the examples. */
final class Args {
    private Args() {
    }

    /** The value after {@code name} in {@code args}, or {@code fallback}. */
    static String value(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(name)) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(name + " needs a value");
                }
                return args[i + 1];
            }
            if (args[i].startsWith(name + "=")) {
                return args[i].substring(name.length() + 1);
            }
        }
        return fallback;
    }

    /** The port the server is bound to. */
    static int port(Server server) {
        return ((InetSocketAddress) server.addresses().get(0)).getPort();
    }
}
