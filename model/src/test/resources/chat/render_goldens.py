#!/usr/bin/env python3
"""Renders the real chat templates of shared/testdata/tokenizers with jinja2, the way transformers'
apply_chat_template does, and writes the golden files that ChatTemplateGoldenTest compares against.

    python3 model/src/test/resources/chat/render_goldens.py [--testdata DIR]

DIR defaults to the first shared/testdata found beside the repository or one of its parent folders. Needs jinja2 (3.1.6 was used); transformers is not needed:
the environment below is a transcription of transformers' render_jinja_template (sandboxed, trim_blocks,
lstrip_blocks, loopcontrols, raise_exception, strftime_now, tojson, the tokenizer's special tokens as
variables). strftime_now is pinned to FIXED_DATE so that goldens do not depend on the day they are made;
the Java test gives its templates a clock fixed at the same date.
"""
import argparse
import datetime
import hashlib
import json
import pathlib

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXED_DATE = datetime.date(2025, 3, 5)

# Whitespace that Python's str.strip() (and so Jinja's trim filter) removes and that Java's
# String.strip() keeps: no-break space, next line, ideographic space, line separator.
PYTHON_ONLY_SPACE = "\u00a0\u0085\u3000\u2028"


def msg(role, content):
    return {"role": role, "content": content}


COMMON = [
    ("user_only", [msg("user", "Hello! Who are you?")]),
    ("system_and_user", [msg("system", "You are a terse assistant."), msg("user", "Name a prime number.")]),
    ("multi_turn", [
        msg("system", "You answer in one word."),
        msg("user", "Capital of France?"),
        msg("assistant", "Paris."),
        msg("user", "And of Italy?"),
    ]),
    ("ends_with_assistant", [msg("user", "Say hi."), msg("assistant", "Hi!")]),
    ("unicode_and_newlines", [msg("user", "Übersetze: \"猫\" 🐱\nzweite Zeile\n\n")]),
    ("late_system_message", [
        msg("user", "One."),
        msg("assistant", "Two."),
        msg("system", "Count in French from now on."),
        msg("user", "Three?"),
    ]),
]

LLAMA_ONLY = [
    ("whitespace_is_trimmed_like_python", [
        msg("system", "  \t be brief \n"),
        msg("user", PYTHON_ONLY_SPACE + "padded" + PYTHON_ONLY_SPACE + "\x1c"),
        msg("assistant", "\n\nanswer\n"),
    ]),
]

THINK = "<think>\nThe user wants a number.\n</think>\n\n"
QWEN3_ONLY = [
    ("earlier_reasoning_is_dropped", [
        msg("user", "Pick a number."),
        msg("assistant", THINK + "Seven."),
        msg("user", "Another one?"),
    ]),
    ("final_assistant_keeps_reasoning", [
        msg("user", "Pick a number."),
        msg("assistant", THINK + "Seven."),
    ]),
    ("final_assistant_without_reasoning_gets_empty_think", [
        msg("user", "Pick a number."),
        msg("assistant", "Seven."),
    ]),
    ("assistant_turns_after_last_query", [
        msg("user", "Pick two numbers."),
        msg("assistant", "First: one."),
        msg("assistant", "\n\n<think>\n\nmore\n\n</think>\n\nSecond: two."),
        msg("assistant", "Done."),
    ]),
    ("nested_think_markers", [
        msg("user", "q"),
        msg("assistant", "<think>a<think>\n\nb\n</think>c</think>\n\nanswer"),
    ]),
    ("tool_response_user_is_not_a_query", [
        msg("user", "What is the weather?"),
        msg("assistant", "<think>call it</think>Checking."),
        msg("user", "<tool_response>sunny</tool_response>"),
        msg("assistant", "<think>it says sunny</think>It is sunny."),
    ]),
    ("no_user_message", [msg("system", "Only a system message."), msg("assistant", "<think>x</think>y")]),
]

SETS = [
    # (golden file, config under the testdata root, conversations, extra template variables per case)
    ("llama3", "tokenizers/llama3/tokenizer_config.json", COMMON + LLAMA_ONLY, [{}]),
    ("qwen3", "tokenizers/qwen3/tokenizer_config.json", COMMON + QWEN3_ONLY, [{}, {"enable_thinking": False}]),
]


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_DATE.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def special_tokens(config):
    names = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]
    tokens = {}
    for name in names:
        value = config.get(name)
        if isinstance(value, dict):
            value = value.get("content")
        if value is not None:
            tokens[name] = value
    tokens["additional_special_tokens"] = config.get("additional_special_tokens", [])
    return tokens


def render_set(testdata, name, source, conversations, variants):
    config = json.loads((testdata / source).read_text(encoding="utf-8"))
    jinja = config["chat_template"]
    template = environment().from_string(jinja)
    cases = []
    for extra in variants:
        for case, messages in conversations:
            for add_generation_prompt in (True, False):
                rendered = template.render(messages=messages, tools=None, documents=None,
                                           add_generation_prompt=add_generation_prompt,
                                           **special_tokens(config), **extra)
                label = case + "".join(f"/{k}={v}" for k, v in extra.items())
                cases.append({"case": label, "messages": messages, "add_generation_prompt": add_generation_prompt,
                              **extra, "expected": rendered})
    return {
        "source": source,
        "chat_template_sha256": hashlib.sha256(jinja.encode("utf-8")).hexdigest(),
        "date": FIXED_DATE.isoformat(),
        "rendered_with": f"jinja2 {jinja2.__version__}",
        "cases": cases,
    }


def find_testdata(start):
    for folder in start.parents:
        candidate = folder / "shared" / "testdata"
        if (candidate / "tokenizers").is_dir():
            return candidate
    return None


def main():
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testdata", type=pathlib.Path, default=find_testdata(here))
    args = parser.parse_args()
    if args.testdata is None:
        parser.error("no shared/testdata/tokenizers found above " + str(here) + "; pass --testdata DIR")
    for name, source, conversations, variants in SETS:
        golden = render_set(args.testdata, name, source, conversations, variants)
        out = here / f"{name}.goldens.json"
        out.write_text(json.dumps(golden, ensure_ascii=True, indent=1) + "\n", encoding="utf-8")
        print(f"{out}: {len(golden['cases'])} cases")


if __name__ == "__main__":
    main()
