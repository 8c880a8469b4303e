/* The RTC's date conversion (drivers/rtc.c) against dates whose Unix time
 * is known. */
#include <criterion/criterion.h>

#include "drivers/rtc.h"

Test(rtc, days_from_civil_matches_known_dates)
{
	cr_assert_eq(rtc_days_from_civil(1970, 1, 1), 0);
	cr_assert_eq(rtc_days_from_civil(1970, 1, 2), 1);
	cr_assert_eq(rtc_days_from_civil(1969, 12, 31), -1);
	cr_assert_eq(rtc_days_from_civil(2000, 1, 1), 10957);
	cr_assert_eq(rtc_days_from_civil(2000, 3, 1), 11017); /* 2000 is a leap year */
	cr_assert_eq(rtc_days_from_civil(2100, 3, 1) - rtc_days_from_civil(2100, 2, 28), 1);
	cr_assert_eq(rtc_days_from_civil(2024, 2, 29) + 1, rtc_days_from_civil(2024, 3, 1));
	cr_assert_eq(rtc_days_from_civil(1600, 1, 1), -135140);
}

Test(rtc, unix_seconds_match_known_times)
{
	cr_assert_eq(rtc_unix_seconds(2024, 1, 1, 0, 0, 0), 1704067200);
	cr_assert_eq(rtc_unix_seconds(2001, 9, 9, 1, 46, 40), 1000000000);
	cr_assert_eq(rtc_unix_seconds(2038, 1, 19, 3, 14, 7), 2147483647);
	cr_assert_eq(rtc_unix_seconds(2099, 12, 31, 23, 59, 59), 4102444799);
}
