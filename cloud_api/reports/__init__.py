"""Patient reports: 7-day home BP (7-2-2), glucose time in ranges, adherence."""
