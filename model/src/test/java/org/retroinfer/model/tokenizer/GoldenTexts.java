package org.retroinfer.model.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Varied texts for comparing tokenizers with the reference, each with a name for failure messages. */
final class GoldenTexts {
    record Text(String name, String text) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Special tokens of all three families; each tokenizer recognises its own, the rest are plain text. */
    static final String SPECIALS = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            + "<|im_start|>system\nBe brief.<|im_end|>\n<think>\nok\n</think>\n\n<tool_call>x</tool_call>"
            + "<s>[INST] Hello [/INST] Hi</s><unk> <|end_of_text|><|endoftext|><|reserved_special_token_7|>";

    private GoldenTexts() {
    }

    static List<Text> all(long fuzzSeed) {
        List<Text> t = new ArrayList<>();
        t.add(new Text("empty", ""));
        t.add(new Text("single space", " "));
        t.add(new Text("spaces only", "     "));
        t.add(new Text("newline only", "\n"));
        t.add(new Text("plain English", "The quick brown fox jumps over the lazy dog. It was 3:45 p.m. on a Tuesday!"));
        t.add(new Text("Python with tabs", "def fib(n):\n\tif n < 2:\n\t\treturn n\n\treturn fib(n - 1) + fib(n - 2)\n\n"
                + "class Foo(object):\n    \"\"\"Doc string.\"\"\"\n    def __init__(self, x: int = 0) -> None:\n"
                + "        self._x = x  # comment\n"));
        t.add(new Text("Java", "public final class Main {\n    public static void main(String[] args) {\n"
                + "        var m = new java.util.HashMap<String, List<int[]>>();\n        if (args.length != 0 && m.isEmpty()) {\n"
                + "            System.out.printf(\"%d%n\", args.length);\n        }\n    }\n}\n"));
        t.add(new Text("C and shell", "#include <stdio.h>\nint main(void){for(int i=0;i<10;++i)printf(\"%d\\n\",i<<2);return 0;}\n"
                + "$ grep -rn 'foo' ./src | awk '{print $1}' >> /tmp/out.txt 2>&1 && echo \"done\"\n"));
        t.add(new Text("JSON and HTML", "{\"key\": [1, 2.5e-3, null, true], \"nested\": {\"a\": \"b\"}}\n"
                + "<div class=\"x\"><p>Hello&nbsp;<b>world</b></p></div>\n"));
        t.add(new Text("Rust and SQL", "fn main() -> Result<(), Box<dyn Error>> { let v: Vec<u8> = vec![0xFF; 16]; Ok(()) }\n"
                + "SELECT id, COUNT(*) AS n FROM users WHERE name LIKE '%o''neil%' GROUP BY id HAVING n > 1;"));
        t.add(new Text("contractions", "I'm sure you're right; HE'S said they've, WE'LL, she'd, it's, DON'T, O'Neil's, 'tis, y'all'd've"));
        t.add(new Text("numbers", "1 12 123 1234 12345 1234567890123456789 3.14159265358979 1,000,000 -42 +7 1e10 0x1F 007"));
        t.add(new Text("unicode digits", "٣٤٥ ۱۲۳ १२३ ½ ² ³ Ⅻ ①②③"));
        t.add(new Text("whitespace runs", "a  b   c    d\t\te \t f\n\ng\n\n\n\nh\r\ni\r\n\r\nj\n \n \t\n  k   \n"));
        t.add(new Text("unicode whitespace", "nbsp\u00A0here ideographic\u3000space em\u2003space line\u2028sep para\u2029sep nel\u0085x"));
        t.add(new Text("trailing spaces", "ends with spaces   "));
        t.add(new Text("Chinese", "你好，世界！这是一个测试句子，包含标点符号。今天天气很好。"));
        t.add(new Text("Japanese", "東京は日本の首都です。ひらがなとカタカナ、そして漢字を使います。"));
        t.add(new Text("Korean", "안녕하세요 세계! 한국어 문장입니다."));
        t.add(new Text("emoji", "Hi 😀🎉 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 skin 👍🏽 keycap 1️⃣ and ❤️"));
        t.add(new Text("combining marks", "e\u0301 a\u0300 n\u0303 decomposed vs composé, Tiếng Việt, हिन्दी, Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇"));
        t.add(new Text("right to left", "مرحبا بالعالم 123 and שלום עולם (mixed) עם English"));
        t.add(new Text("Greek Cyrillic Thai", "Καλημέρα κόσμε. Привет, мир! สวัสดีชาวโลก"));
        t.add(new Text("long s contraction", "ſ's 'ſ 'S 'ſt Kelvin 'K"));
        t.add(new Text("special tokens", SPECIALS));
        t.add(new Text("special tokens glued", "x<|eot_id|>y<s>z</s><|im_end|><|im_end|>w"));
        t.add(new Text("control characters", "nul\u0000bell\u0007esc\u001B[0m del\u007F"));
        t.add(fuzz(fuzzSeed));
        return t;
    }

    /**
     * A long string of random code points from scripts long in Unicode (so that the JDK's and the
     * Rust library's Unicode tables agree on them), with spaces, newlines and punctuation mixed in.
     */
    static Text fuzz(long seed) {
        int[][] ranges = {
            {0x20, 0x7E}, {0x20, 0x7E}, {0x20, 0x7E}, {0xA0, 0xFF}, {0x100, 0x17F}, {0x300, 0x36F}, {0x391, 0x3C9},
            {0x410, 0x44F}, {0x5D0, 0x5EA}, {0x621, 0x64A}, {0x660, 0x669}, {0x905, 0x939}, {0xE01, 0xE3A},
            {0x2000, 0x206F}, {0x3041, 0x3096}, {0x4E00, 0x9FA5}, {0xAC00, 0xD7A3}, {0x1F300, 0x1F5FF},
            {0x1F600, 0x1F64F}, {'\t', '\r'},
        };
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 6000) {
            int[] range = ranges[r.nextInt(ranges.length)];
            int cp = range[0] + r.nextInt(range[1] - range[0] + 1);
            if (Character.isDefined(cp) && Character.getType(cp) != Character.SURROGATE) {
                sb.appendCodePoint(cp);
            }
            if (r.nextInt(7) == 0) {
                sb.append(r.nextBoolean() ? " " : r.nextBoolean() ? "  " : "\n");
            }
        }
        return new Text("random Unicode (seed " + seed + ")", sb.toString());
    }
}
