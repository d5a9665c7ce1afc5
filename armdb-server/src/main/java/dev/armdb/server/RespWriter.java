package dev.armdb.server;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Writes RESP2 replies into a buffered stream. Used by one connection thread. */
final class RespWriter {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] NIL = "$-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);

    private final OutputStream out;

    RespWriter(OutputStream out) {
        this.out = out;
    }

    void ok() throws IOException {
        out.write(OK);
    }

    void simple(String s) throws IOException {
        out.write('+');
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.write(CRLF);
    }

    void error(String s) throws IOException {
        out.write('-');
        out.write(s.replace('\r', ' ').replace('\n', ' ').getBytes(StandardCharsets.UTF_8));
        out.write(CRLF);
    }

    void integer(long v) throws IOException {
        out.write(':');
        out.write(Long.toString(v).getBytes(StandardCharsets.US_ASCII));
        out.write(CRLF);
    }

    void bulk(byte[] b) throws IOException {
        if (b == null) {
            out.write(NIL);
            return;
        }
        out.write('$');
        out.write(Integer.toString(b.length).getBytes(StandardCharsets.US_ASCII));
        out.write(CRLF);
        out.write(b);
        out.write(CRLF);
    }

    void bulk(String s) throws IOException {
        bulk(s.getBytes(StandardCharsets.UTF_8));
    }

    void arrayHeader(int n) throws IOException {
        out.write('*');
        out.write(Integer.toString(n).getBytes(StandardCharsets.US_ASCII));
        out.write(CRLF);
    }

    void flush() throws IOException {
        out.flush();
    }
}
