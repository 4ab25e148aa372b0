// The official openai npm package against a RetroInfer server: completions, chat, streaming,
// the budget extension and errors. Usage: node client.mjs http://127.0.0.1:PORT
// Prints one line per check and exits 1 at the first that fails.
import OpenAI from 'openai';

const base = process.argv[2];
const model = 'retro-tiny';
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-needed', maxRetries: 0, timeout: 60_000 });
let passed = 0;

function check(condition, what, detail) {
  if (!condition) {
    console.error(`FAILED: ${what}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`);
    process.exit(1);
  }
  passed++;
  console.log(`ok: ${what}`);
}

async function refused(what, params, ErrorClass, status, param, message) {
  try {
    await client.completions.create(params);
    check(false, what, 'no error');
  } catch (e) {
    check(e instanceof ErrorClass && e.status === status && e.param === param && e.message.includes(message), what,
      { name: e.constructor.name, status: e.status, param: e.param, message: e.message });
  }
}

const models = await client.models.list();
check(models.data.length === 1 && models.data[0].id === model && models.data[0].object === 'model', 'models.list', models.data);

const prompt = 'def fibonacci(n):';
const completion = await client.completions.create({ model, prompt, max_tokens: 8, temperature: 0 });
const text = completion.choices[0].text;
check(typeof text === 'string' && text.length > 0, 'completions.create returns text', completion);
check(['length', 'stop'].includes(completion.choices[0].finish_reason), 'finish_reason', completion.choices[0]);
check(completion.usage.completion_tokens > 0 && completion.usage.total_tokens ===
  completion.usage.prompt_tokens + completion.usage.completion_tokens, 'usage', completion.usage);

let streamed = '';
let finish = null;
const stream = await client.completions.create({ model, prompt, max_tokens: 8, temperature: 0, stream: true });
for await (const chunk of stream) {
  streamed += chunk.choices[0]?.text ?? '';
  finish = chunk.choices[0]?.finish_reason ?? finish;
}
check(streamed === text, 'a streamed completion has the same text', { streamed, text });
check(finish === completion.choices[0].finish_reason, 'a streamed completion ends with the finish reason', finish);

const messages = [{ role: 'system', content: 'Answer briefly.' }, { role: 'user', content: 'What is a tuple?' }];
const chat = await client.chat.completions.create({ model, messages, max_tokens: 6, temperature: 0 });
check(chat.object === 'chat.completion' && chat.choices[0].message.role === 'assistant'
  && typeof chat.choices[0].message.content === 'string', 'chat.completions.create', chat);

let chatStreamed = '';
let role = null;
for await (const chunk of await client.chat.completions.create({ model, messages, max_tokens: 6, temperature: 0, stream: true,
  stream_options: { include_usage: true } })) {
  role = chunk.choices[0]?.delta?.role ?? role;
  chatStreamed += chunk.choices[0]?.delta?.content ?? '';
}
check(role === 'assistant' && chatStreamed === chat.choices[0].message.content, 'a streamed chat has the same reply',
  { role, chatStreamed });

const budgeted = await client.completions.create({ model, prompt, max_tokens: 4, temperature: 0,
  retrieval_budget: 0.05, estimation_budget: 0.1 });
check(budgeted.choices[0].text.length > 0, 'retrieval_budget and estimation_budget are accepted', budgeted);

const sampled = await client.completions.create({ model, prompt, max_tokens: 6, temperature: 0.8, top_p: 0.9,
  seed: 42, stop: ['\n\n'] });
const again = await client.completions.create({ model, prompt, max_tokens: 6, temperature: 0.8, top_p: 0.9,
  seed: 42, stop: ['\n\n'] });
check(sampled.choices[0].text === again.choices[0].text, 'a seed makes sampling repeatable', [sampled, again]);

await refused('an unknown model is NotFoundError 404', { model: 'gpt-4', prompt },
  OpenAI.NotFoundError, 404, 'model', 'does not exist');
await refused('temperature out of range is BadRequestError 400', { model, prompt, temperature: 5 },
  OpenAI.BadRequestError, 400, 'temperature', 'temperature must be in [0, 2]');
await refused('a request over the context is BadRequestError 400', { model, prompt, max_tokens: 100000 },
  OpenAI.BadRequestError, 400, 'max_tokens', 'maximum context length');
await refused('a streamed request with a bad parameter is refused before streaming',
  { model, prompt, stream: true, top_p: 2 }, OpenAI.BadRequestError, 400, 'top_p', 'top_p must be in (0, 1]');

console.log(`${passed} passed, 0 failed`);
