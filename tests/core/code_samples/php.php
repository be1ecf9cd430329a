<?php

namespace App\Http;

const MAX_BODY = 1048576;

class RequestValidator
{
    private array $rules = [];

    public function addRule(string $field, callable $rule): void
    {
        if (isset($this->rules[$field])) {
            throw new \InvalidArgumentException("rule exists: $field");
        }
        $this->rules[$field] = $rule;
    }

    public function validate(array $input): array
    {
        $errors = [];
        foreach ($this->rules as $field => $rule) {
            if (!$rule($input[$field] ?? null)) {
                $errors[] = $field;
            }
        }
        return $errors;
    }
}
