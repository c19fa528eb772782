import { useId } from "react";

type Props<T extends string> = {
  legend: string;
  name: string;
  value: T;
  onChange: (value: T) => void;
  options: { value: T; label: string; hint?: string }[];
};

export function RadioGroup<T extends string>({ legend, name, value, onChange, options }: Props<T>) {
  const id = useId();
  return (
    <fieldset className="field radios">
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={o.value} htmlFor={`${id}-${o.value}`} className="radio">
          <input
            id={`${id}-${o.value}`}
            type="radio"
            name={name}
            value={o.value}
            checked={value === o.value}
            onChange={() => onChange(o.value)}
          />
          <span>
            {o.label}
            {o.hint && <span className="hint"> · {o.hint}</span>}
          </span>
        </label>
      ))}
    </fieldset>
  );
}
