package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class GlobPatternTest {
    private static boolean m(String pattern, String s) {
        return GlobPattern.matches(pattern.getBytes(StandardCharsets.UTF_8), s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void redisGlobSyntax() {
        assertThat(m("*", "")).isTrue();
        assertThat(m("*", "anything")).isTrue();
        assertThat(m("h?llo", "hello")).isTrue();
        assertThat(m("h?llo", "hllo")).isFalse();
        assertThat(m("h*llo", "hllo")).isTrue();
        assertThat(m("h*llo", "heeeello")).isTrue();
        assertThat(m("h*llo", "heeeellox")).isFalse();
        assertThat(m("h[ae]llo", "hallo")).isTrue();
        assertThat(m("h[ae]llo", "hillo")).isFalse();
        assertThat(m("h[^e]llo", "hallo")).isTrue();
        assertThat(m("h[^e]llo", "hello")).isFalse();
        assertThat(m("h[a-b]llo", "hbllo")).isTrue();
        assertThat(m("h[a-b]llo", "hcllo")).isFalse();
        assertThat(m("h[b-a]llo", "hallo")).as("a reversed range").isTrue();
        assertThat(m("h\\*llo", "h*llo")).isTrue();
        assertThat(m("h\\*llo", "hello")).isFalse();
        assertThat(m("[\\]]", "]")).isTrue();
        assertThat(m("key:*:x", "key:1:2:x")).isTrue();
        assertThat(m("a**b", "ab")).isTrue();
        assertThat(m("[abc", "a"))
                .as("an unclosed class ends at the pattern's end")
                .isTrue();
        assertThat(m("", "")).isTrue();
        assertThat(m("", "a")).isFalse();
    }
}
