# Parses simple INI files.
module Ini
  DEFAULT_SECTION = "global"

  class Parser
    def initialize(text)
      @text = text
      @sections = {}
    end

    def parse
      current = DEFAULT_SECTION
      @text.each_line do |line|
        line = line.strip
        next if line.empty? || line.start_with?(";")
        if line.start_with?("[")
          current = line[1..-2]
        else
          key, value = line.split("=", 2)
          (@sections[current] ||= {})[key.strip] = value.to_s.strip
        end
      end
      @sections
    end
  end
end
