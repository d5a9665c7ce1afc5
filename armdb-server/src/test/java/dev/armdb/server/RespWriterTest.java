package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The bytes of each reply type in RESP2 and RESP3 (golden strings from the RESP3 specification's examples). */
class RespWriterTest {
    private static String encode(int protocol, java.util.function.Consumer<RespWriter> replies) throws IOException {
        RespWriter w = new RespWriter(16);
        w.protocol(protocol);
        replies.accept(w);
        try (ServerSocketChannel server =
                        ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel out = SocketChannel.open(server.getLocalAddress());
                SocketChannel in = server.accept()) {
            int n = w.pending();
            assertThat(w.drainTo(out)).isTrue();
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                in.read(b);
            }
            return new String(b.array(), StandardCharsets.UTF_8);
        }
    }

    private static void all(RespWriter w) {
        w.mapHeader(1);
        w.bulk("k");
        w.nullBulk();
        w.nullArray();
        w.bool(true);
        w.bool(false);
        w.dbl(1.5);
        w.dbl(Double.POSITIVE_INFINITY);
        w.verbatim("Some string");
        w.setHeader(2);
        w.bulk((String) null);
    }

    @Test
    void resp3Types() throws IOException {
        assertThat(encode(3, RespWriterTest::all))
                .isEqualTo(
                        "%1\r\n$1\r\nk\r\n_\r\n_\r\n#t\r\n#f\r\n,1.5\r\n,inf\r\n=15\r\ntxt:Some string\r\n~2\r\n_\r\n");
    }

    @Test
    void resp2Equivalents() throws IOException {
        assertThat(encode(2, RespWriterTest::all))
                .isEqualTo("*2\r\n$1\r\nk\r\n$-1\r\n*-1\r\n:1\r\n:0\r\n$3\r\n1.5\r\n$3\r\ninf\r\n$11\r\nSome string\r\n"
                        + "*2\r\n$-1\r\n");
    }

    @Test
    void truncateDropsASuppressedReply() throws IOException {
        assertThat(encode(2, w -> {
                    w.ok();
                    int mark = w.mark();
                    w.bulk("dropped");
                    w.truncate(mark);
                    w.integer(7);
                }))
                .isEqualTo("+OK\r\n:7\r\n");
    }
}
