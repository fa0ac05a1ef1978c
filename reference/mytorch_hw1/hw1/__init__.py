"""Homework 1: training an MLP on MNIST with MyTorch."""
