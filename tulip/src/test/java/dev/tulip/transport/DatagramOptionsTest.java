package dev.tulip.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.transport.DatagramOptions.Family;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class DatagramOptionsTest {

    @Test
    void defaultsAreAServerOnTheWildcardAddress() {
        DatagramOptions o = DatagramOptions.defaults();
        assertNull(o.localAddress());
        assertNull(o.remoteAddress());
        assertFalse(o.isConnected());
        assertEquals(Family.AUTO, o.family());
        assertFalse(o.reusePort(), "SO_REUSEPORT is opt-in");
        assertFalse(o.allowBroadcast(), "SO_BROADCAST is opt-in");
        assertEquals(DatagramOptions.DEFAULT_RECEIVE_BUFFER_SIZE, o.receiveBufferSize());
        assertEquals(0, o.sendBufferSize());
        assertEquals(65_535, o.maxDatagramSize());
        assertEquals(-1, o.multicastTtl());
        assertTrue(o.multicastLoopback());
        assertEquals(o, o.toBuilder().build());
    }

    @Test
    void literalsAreUsedAsIsAndNamesAreLeftForTheLoopToResolve() throws Exception {
        DatagramOptions o = DatagramOptions.builder().localAddress("127.0.0.1", 5000).remoteAddress("127.0.0.2", 53)
                .family(Family.AUTO).localAddress("127.0.0.1", 0).build();
        assertEquals(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), o.localAddress());
        assertFalse(o.localAddress().isUnresolved());
        DatagramOptions named = DatagramOptions.builder().remoteAddress("example.invalid", 9).build();
        assertTrue(named.remoteAddress().isUnresolved(), "no blocking lookup while building options");
        assertTrue(named.isConnected());
        assertEquals(7000, DatagramOptions.builder().localAddress("::1", 1).localPort(7000).build()
                .localAddress().getPort());
        assertEquals(7001, DatagramOptions.builder().localPort(7001).build().localAddress().getPort());
    }

    @Test
    void badValuesAreRefusedWithTheirName() {
        var b = DatagramOptions.builder();
        assertEquals("receiveBufferSize must not be negative: -1",
                assertThrows(IllegalArgumentException.class, () -> b.receiveBufferSize(-1).build()).getMessage());
        b.receiveBufferSize(0);
        assertThrows(IllegalArgumentException.class, () -> b.sendBufferSize(-1).build());
        b.sendBufferSize(0);
        assertThrows(IllegalArgumentException.class, () -> b.maxDatagramSize(65_536).build());
        assertThrows(IllegalArgumentException.class, () -> b.maxDatagramSize(-1).build());
        b.maxDatagramSize(1000);
        assertThrows(IllegalArgumentException.class, () -> b.multicastTtl(256).build());
        b.multicastTtl(-1);
        assertThrows(IllegalArgumentException.class, () -> b.localPort(65_536));
        assertThrows(IllegalArgumentException.class, () -> b.localAddress("127.0.0.1", -1));
        assertThrows(IllegalArgumentException.class, () -> b.remoteAddress("127.0.0.1", 0).build(),
                "a remote port must be given");
        assertThrows(NullPointerException.class, () -> b.remoteAddress(null, 9));
        assertThrows(NullPointerException.class, () -> b.family(null));
        b.remoteAddress((InetSocketAddress) null);
        b.build();
    }

    @Test
    void addressesMustFitTheFamily() {
        assertThrows(IllegalArgumentException.class, () -> DatagramOptions.builder().family(Family.IPV4)
                .localAddress("::1", 0).build());
        assertThrows(IllegalArgumentException.class, () -> DatagramOptions.builder().family(Family.IPV4)
                .remoteAddress("::1", 9).build());
        assertThrows(IllegalArgumentException.class, () -> DatagramOptions.builder().family(Family.IPV6)
                .localAddress("127.0.0.1", 0).build());
        assertThrows(IllegalArgumentException.class, () -> DatagramOptions.builder().family(Family.IPV6)
                .remoteAddress("127.0.0.1", 9).build());
        assertThrows(IllegalArgumentException.class, () -> DatagramOptions.builder().family(Family.DUAL_STACK)
                .localAddress("::1", 0).build(), "dual-stack binds the wildcard address");
        assertThrows(IllegalArgumentException.class, () -> DatagramOptions.builder()
                .localAddress("127.0.0.1", 0).remoteAddress("::1", 9).build());
        // Wildcards fit every family.
        DatagramOptions.builder().family(Family.IPV4).localPort(0).build();
        DatagramOptions.builder().family(Family.DUAL_STACK).localAddress("0.0.0.0", 0).build();
        DatagramOptions.builder().family(Family.DUAL_STACK).remoteAddress("127.0.0.1", 9).build();
    }
}
