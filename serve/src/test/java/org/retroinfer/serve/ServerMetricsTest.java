package org.retroinfer.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ServerMetricsTest {
    @Test
    void tokensPerSecondAveragesTheLastTenWholeSeconds() {
        AtomicLong now = new AtomicLong(1000);
        ServerMetrics m = new ServerMetrics(now::get);
        m.generatedTokens(50);
        now.set(1001);
        assertEquals(5.0, m.tokensPerSecond(), "50 tokens in the last ten seconds");
        m.generatedTokens(30);
        assertEquals(5.0, m.tokensPerSecond(), "the current second is not counted until it is over");
        now.set(1002);
        assertEquals(8.0, m.tokensPerSecond());
        now.set(1011);
        assertEquals(3.0, m.tokensPerSecond(), "second 1000 left the window");
        now.set(1030);
        assertEquals(0.0, m.tokensPerSecond());
        m.generatedTokens(7);
        now.set(1031);
        assertEquals(0.7, m.tokensPerSecond(), 1e-12, "a reused slot starts from zero");
    }
}
