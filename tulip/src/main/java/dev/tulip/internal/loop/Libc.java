package dev.tulip.internal.loop;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * What the FFM backend's classes ({@link EpollBackend}, {@link NativeIo}) share to call the C library: downcall
 * handles looked up by name, and the errno capture (the option, the size of the segment a call writes errno into,
 * and how to read it back).
 */
final class Libc {
    /** Makes a downcall write errno into a capture segment of {@link #CAPTURE_SIZE} bytes, passed first. */
    static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /** Size of a capture segment. */
    static final long CAPTURE_SIZE;
    private static final VarHandle ERRNO;

    static {
        MemoryLayout state = Linker.Option.captureStateLayout();
        ERRNO = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        CAPTURE_SIZE = state.byteSize();
    }

    private Libc() {
    }

    /** A downcall handle for the C library's {@code name}. */
    static MethodHandle down(String name, FunctionDescriptor fd, Linker.Option... options) {
        Linker linker = Linker.nativeLinker();
        MemorySegment sym = linker.defaultLookup().find(name)
                .orElseThrow(() -> new IllegalStateException("no symbol " + name));
        return linker.downcallHandle(sym, fd, options);
    }

    /** The errno the last call with this capture segment saved. */
    static int errno(MemorySegment captured) {
        return (int) ERRNO.get(captured, 0L);
    }
}
