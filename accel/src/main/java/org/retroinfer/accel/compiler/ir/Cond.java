package org.retroinfer.accel.compiler.ir;

/** A comparison; for floats {@code unordered} makes it true when either operand is NaN (PTX {@code ltu} etc.). */
public record Cond(Kind kind, boolean unordered) {
    public enum Kind {
        EQ("eq"), NE("ne"), LT("lt"), LE("le"), GT("gt"), GE("ge");

        private final String ptx;

        Kind(String ptx) {
            this.ptx = ptx;
        }

        public String ptx() {
            return ptx;
        }

        /** The condition with its operands swapped ({@code a < b} is {@code b > a}). */
        public Kind swapped() {
            return switch (this) {
                case EQ, NE -> this;
                case LT -> GT;
                case LE -> GE;
                case GT -> LT;
                case GE -> LE;
            };
        }

        /** The logical negation for ordered integer comparisons. */
        public Kind negated() {
            return switch (this) {
                case EQ -> NE;
                case NE -> EQ;
                case LT -> GE;
                case LE -> GT;
                case GT -> LE;
                case GE -> LT;
            };
        }

        public boolean holds(int comparison) {
            return switch (this) {
                case EQ -> comparison == 0;
                case NE -> comparison != 0;
                case LT -> comparison < 0;
                case LE -> comparison <= 0;
                case GT -> comparison > 0;
                case GE -> comparison >= 0;
            };
        }
    }

    public static Cond of(Kind kind) {
        return new Cond(kind, false);
    }

    public String ptx() {
        return kind.ptx() + (unordered ? "u" : "");
    }
}
