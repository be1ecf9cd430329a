package example.text

object WordCount {
  val Separator: String = "\\s+"

  def count(text: String): Map[String, Int] = {
    val words = text.toLowerCase.split(Separator).filter(_.nonEmpty)
    words.groupBy(identity).map { case (word, occurrences) =>
      word -> occurrences.length
    }
  }

  def top(counts: Map[String, Int], n: Int): Seq[(String, Int)] = {
    val sorted = counts.toSeq.sortBy { case (word, c) => (-c, word) }
    val first = sorted.take(n)
    first
  }
}
