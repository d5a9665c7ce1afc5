package dev.armdb.replication.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Plain TCP: the application bytes are the wire bytes. Threading as {@link ByteTransport}. */
public final class PlainTransport implements ByteTransport {
    private final SocketChannel channel;

    /** Frames over {@code channel}, connected, in either blocking mode. */
    public PlainTransport(SocketChannel channel) {
        this.channel = channel;
    }

    @Override
    public void handshake() {
        // plain TCP has no handshake of its own
    }

    @Override
    public Handshake handshakeStep() {
        return Handshake.DONE;
    }

    @Override
    public InputStream blockingInput() throws IOException {
        return channel.socket().getInputStream();
    }

    @Override
    public OutputStream blockingOutput() throws IOException {
        return channel.socket().getOutputStream();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    @Override
    public boolean flush() {
        return true;
    }

    @Override
    public boolean wantsWrite() {
        return false;
    }

    @Override
    public boolean inputBuffered() {
        return false;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
