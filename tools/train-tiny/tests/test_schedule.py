import unittest

import fakes  # noqa: F401  (puts the tool's directory on sys.path)
from schedule import Schedule, Stage, progress

SCHEDULE = Schedule(stages=(Stage(0.0, 2048, 32), Stage(0.2, 4096, 16), Stage(0.65, 16384, 4)), peak_lr=2e-3,
                    warmup_steps=60, rewarm_steps=40, decay_start=0.75, final_ratio=0.1)


class ScheduleTest(unittest.TestCase):
    def test_stage_is_the_last_one_started(self):
        self.assertEqual(SCHEDULE.stage(0.0).length, 2048)
        self.assertEqual(SCHEDULE.stage(0.1999).length, 2048)
        self.assertEqual(SCHEDULE.stage(0.2).length, 4096)
        self.assertEqual(SCHEDULE.stage(0.9).length, 16384)
        self.assertEqual(SCHEDULE.stage(1.0).rows, 4)

    def test_learning_rate_warms_up_holds_and_decays_to_the_final_ratio(self):
        self.assertAlmostEqual(SCHEDULE.lr(0.0, 0, 0, False), 2e-3 / 60)
        self.assertAlmostEqual(SCHEDULE.lr(0.01, 29, 29, False), 1e-3)
        self.assertAlmostEqual(SCHEDULE.lr(0.5, 1000, 1000, False), 2e-3)
        self.assertAlmostEqual(SCHEDULE.lr(0.875, 5000, 5000, False), 2e-3 * 0.55)
        self.assertAlmostEqual(SCHEDULE.lr(1.0, 9000, 9000, False), 2e-4)

    def test_a_resumed_run_warms_up_again(self):
        self.assertAlmostEqual(SCHEDULE.lr(0.5, 3000, 0, True), 2e-3 / 40)
        self.assertAlmostEqual(SCHEDULE.lr(0.5, 3000, 39, True), 2e-3)

    def test_progress_counts_from_where_the_schedule_starts(self):
        self.assertAlmostEqual(progress(490.0, 0.0, 980.0), 0.5)
        self.assertAlmostEqual(progress(980.0, 980.0, 1430.0), 0.0)  # an extension of 450 s after 980 s
        self.assertAlmostEqual(progress(1205.0, 980.0, 1430.0), 0.5)
        self.assertEqual(progress(5.0, 980.0, 980.0), 1.0)  # an empty schedule is done

    def test_json_round_trip(self):
        self.assertEqual(Schedule.from_json(SCHEDULE.to_json()), SCHEDULE)


if __name__ == "__main__":
    unittest.main()
