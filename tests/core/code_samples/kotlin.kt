package com.example.metrics

const val WINDOW_SIZE = 60

class MovingAverage(private val size: Int = WINDOW_SIZE) {
    private val values = ArrayDeque<Double>()
    private var sum = 0.0

    fun add(value: Double): Double {
        values.addLast(value)
        sum += value
        if (values.size > size) {
            sum -= values.removeFirst()
        }
        return sum / values.size
    }

    fun reset() {
        values.clear()
        sum = 0.0
        println("moving average reset")
    }
}
