"""Tests of the synthetic partner-data generator."""
