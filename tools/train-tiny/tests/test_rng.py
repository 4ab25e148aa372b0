import random
import unittest
import uuid

import fakes  # noqa: F401  (puts the tool's directory on sys.path)
import tasks
from rng import Rng, derive_seed, fnv1a64


class RngTest(unittest.TestCase):
    def test_splitmix64_matches_the_published_sequences(self):
        # Vigna's splitmix64.c seeded 0, and the sequence commonly quoted for seed 1234567.
        r = Rng(0)
        self.assertEqual([r.next_u64() for _ in range(3)], [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F])
        r = Rng(1234567)
        self.assertEqual([r.next_u64() for _ in range(3)],
                         [6457827717110365317, 3203168211198807973, 9817491932198370423])

    def test_fnv1a64_matches_the_reference_values(self):
        self.assertEqual(fnv1a64(b""), 0xCBF29CE484222325)
        self.assertEqual(fnv1a64(b"a"), 0xAF63DC4C8601EC8C)
        self.assertEqual(fnv1a64(b"foobar"), 0x85944171F73967E8)

    def test_derived_seeds_differ_by_label_and_base(self):
        seeds = {derive_seed(base, f"heldout/vt/8192/{i}") for base in (1, 2) for i in range(100)}
        self.assertEqual(len(seeds), 200)

    def test_below_stays_in_range_and_covers_it(self):
        seed = random.randrange(1 << 64)
        print(f"seed {seed}")
        r = Rng(seed)
        counts = [0] * 7
        for _ in range(7000):
            counts[r.below(7)] += 1
        self.assertTrue(all(800 < c < 1200 for c in counts), counts)
        self.assertTrue(all(0 <= r.between(-3, 3) + 3 <= 6 for _ in range(100)))
        self.assertRaises(ValueError, r.below, 0)

    def test_uniform_is_in_the_unit_interval(self):
        r = Rng(random.randrange(1 << 64))
        xs = [r.uniform() for _ in range(2000)]
        self.assertTrue(all(0.0 <= x < 1.0 for x in xs))
        self.assertAlmostEqual(sum(xs) / len(xs), 0.5, delta=0.05)

    def test_shuffle_is_a_permutation_and_distinct_never_repeats(self):
        r = Rng(random.randrange(1 << 64))
        items = list(range(50))
        r.shuffle(items)
        self.assertEqual(sorted(items), list(range(50)))
        self.assertNotEqual(items, list(range(50)))
        d = r.distinct(10, 10)
        self.assertEqual(sorted(d), list(range(10)))
        self.assertRaises(ValueError, r.distinct, 3, 4)

    def test_uuid4_equals_python_uuid_with_version_4(self):
        seed = random.randrange(1 << 64)
        a, b = Rng(seed), Rng(seed)
        for _ in range(20):
            x = (b.next_u64() << 64) | b.next_u64()
            self.assertEqual(tasks.uuid4(a), str(uuid.UUID(int=x, version=4)))


if __name__ == "__main__":
    unittest.main()
